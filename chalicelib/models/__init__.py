"""PynamoDB models, one module per aggregate. Every partition key starts with the tenant id."""
