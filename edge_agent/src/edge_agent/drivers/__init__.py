"""The card printer drivers: `evolis` (Evolis's SDK) and `simulator` (the same driver over a
simulated machine); `driver_for` builds the one a printer's configuration names."""

from edge_agent.config import PrinterConfig
from edge_agent.drivers.base import PrinterDriver
from edge_agent.drivers.evolis import EvolisDriver
from edge_agent.drivers.simulator import simulated_driver


def driver_for(printer: PrinterConfig) -> PrinterDriver:
    if printer.driver == "simulator":
        return simulated_driver(printer.device, printer.encoder, printer.simulator)
    return EvolisDriver(printer.device, printer.encoder)
