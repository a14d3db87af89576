// Runs Amazon's DynamoDB Local bound to 127.0.0.1 only.
//
// DynamoDB Local has no bind-address option: its Jetty server listens on every interface.
// This launcher builds the server exactly as DynamoDB Local's own main does (same command
// line), then, before starting it, sets the host of its Jetty connectors to the loopback
// address. Run with Java's source launcher (needs the jdk.compiler module):
//
//   java -cp "DynamoDBLocal.jar:DynamoDBLocal_lib/*" DynamoDBLocalOnLoopback.java -port 8000 -inMemory
import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDBLocalOnLoopback {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
        serverField.setAccessible(true);
        Server server = (Server) serverField.get(proxy);
        for (Connector connector : server.getConnectors()) {
            ((ServerConnector) connector).setHost("127.0.0.1");
        }
        proxy.start();
        proxy.join();
    }
}
