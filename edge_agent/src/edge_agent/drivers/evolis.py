"""The Evolis driver: drives a printer through Evolis's Python SDK (`evolis-sdk`, a ctypes
wrapper over the vendor's libevolis), and maps every SDK return code and printer state to
the protocol's reasons.

The sequence of one card: get_state() ready → reserve() → insert_card() →
set_card_pos(CONTACTLESS) → UID over PC/SC (APDU FF CA 00 00 00, answer `UID 90 00`) →
PrintSession.set_image_buffer() + print() → eject_card(); on failure reject_card(); always
release(). The driver names the SDK's codes and states by name, so the simulator
(drivers/simulator.py), which plays the same SDK, runs through this very code."""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from edge_agent import protocol
from edge_agent.drivers.base import DriverUnavailable, PrinterFault, PrinterStatus

GET_UID_APDU = bytes.fromhex("FFCA000000")
STATUS_OK = b"\x90\x00"
# PC/SC "operation failed" to GET DATA: no contactless card answered.
STATUS_NO_CARD = b"\x63\x00"

# Printer states (State.Minor names) → reasons.
STATE_REASONS: dict[str, str] = {
    **dict.fromkeys(
        ("DEF_FEEDER_EMPTY", "ERR_FEEDER_EMPTY", "AVANSIA_DEF_FEEDER_EMPTY", "AVANSIA_ERR_FEEDER_EMPTY",
         "DEF_WAIT_CARD", "ERR_NO_CARD_INSERTED"),
        protocol.FEEDER_EMPTY),
    **dict.fromkeys(
        ("DEF_RIBBON_ENDED", "ERR_RIBBON_ENDED", "DEF_NO_RIBBON", "AVANSIA_DEF_RIBBON_ENDED",
         "AVANSIA_ERR_RIBBON_ENDED", "AVANSIA_DEF_RIBBON_FILM_ENDED", "AVANSIA_ERR_RIBBON_FILM_ENDED"),
        protocol.RIBBON_ENDED),
    "INF_RIBBON_LOW": protocol.RIBBON_LOW,
    **dict.fromkeys(
        ("DEF_COVER_OPEN", "ERR_COVER_OPEN", "AVANSIA_DEF_COVER_OPEN", "AVANSIA_ERR_COVER_OPEN",
         "DEF_FEEDER_OPEN", "ERR_FEEDER_OPEN", "DEF_REJECT_BOX_COVER_OPEN", "ERR_REJECT_BOX_COVER_OPEN",
         "DEF_RECEPTACLE_OPEN"),
        protocol.COVER_OPEN),
    **dict.fromkeys(("DEF_REJECT_BOX_FULL", "ERR_REJECT_BOX_FULL"), protocol.REJECT_BOX_FULL),
    **dict.fromkeys(
        ("ERR_MECHANICAL", "AVANSIA_ERR_CARD_JAM", "ERR_FEEDER_ERROR", "ERR_CARD_ON_EJECT", "DEF_CARD_ON_EJECT"),
        protocol.MECHANICAL_ERROR),
    **dict.fromkeys(("PRINTER_OFFLINE", "PRINTER_UNKNOWN"), protocol.PRINTER_UNREACHABLE),
    "BUSY": protocol.PRINTER_BUSY,
}

# SDK return codes (ReturnCode names) → reasons. PRINT_NEEDACTION and ENEEDACTION say "look at
# the printer's state"; every code not named here is unknown_error with the code in the detail.
NEEDS_ACTION = frozenset({"PRINT_NEEDACTION", "ENEEDACTION"})
CODE_REASONS: dict[str, str] = {
    **dict.fromkeys(("PRINT_EMECHANICAL", "CARD_ERROR", "CARD_EINSERTION"), protocol.MECHANICAL_ERROR),
    "SMART_ENOCARD": protocol.NO_CARD_AT_ENCODER,
    **dict.fromkeys(("SMART_ENOCOM", "SMART_ERROR", "SMART_EBUSY"), protocol.ENCODER_NOT_ANSWERING),
    **dict.fromkeys(
        ("PRINTER_ENOCOM", "SVC_ENOCOM", "PRINTER_NETWORK_ERROR", "SYSTEM_ENETWORK", "HTTP_ERROR"),
        protocol.PRINTER_UNREACHABLE),
    **dict.fromkeys(
        ("SESSION_EBUSY", "PRINTER_EOTHER", "PRINTER_EBUSY", "SYSTEM_EBUSY", "SANDBOX_EBUSY"),
        protocol.PRINTER_BUSY),
    **dict.fromkeys(("ETIMEOUT", "SESSION_ETIMEOUT"), protocol.TIMEOUT),
}

MAJOR_STATES = {"READY": protocol.READY, "WARNING": protocol.WARNING, "ERROR": protocol.ERROR, "OFF": protocol.OFFLINE}


def load_sdk() -> ModuleType:
    """The installed `evolis` module, or DriverUnavailable saying what is missing.

    Importing `evolis` loads the vendor's native library at once (ctypes.CDLL of
    evolis/lib/<platform>/libevolis.so or evolis.dll): when it is absent, or one of its own
    dependencies is (libudev on Linux), the import raises OSError."""
    try:
        import evolis
    except ModuleNotFoundError as exc:
        raise DriverUnavailable(
            "the Evolis SDK is not installed: pip install 'ticketing-edge-agent[evolis]' (evolis-sdk 9.4.1)"
        ) from exc
    except OSError as exc:
        raise DriverUnavailable(
            f"the Evolis SDK is installed but its native library could not be loaded ({exc}); "
            "reinstall evolis-sdk for this platform, and on Linux install libudev1 "
            "(see edge_agent/README.md, 'Evolis library')"
        ) from exc
    if getattr(evolis.Evolis, "wrapper", None) is None:
        raise DriverUnavailable(
            "the Evolis SDK did not load its native library (is PDOC_NO_EVOLIS_DLL_LOAD set?)"
        )
    return evolis


def state_reasons(major: str, minor: str) -> tuple[str, tuple[str, ...]]:
    """The protocol state and reasons of an SDK state (State.Major and State.Minor names)."""
    state = MAJOR_STATES.get(major, protocol.OFFLINE)
    reason = STATE_REASONS.get(minor)
    if state == protocol.READY:
        return state, (reason,) if reason == protocol.PRINTER_BUSY else ()
    if state == protocol.OFFLINE:
        return state, (protocol.PRINTER_UNREACHABLE,)
    if reason is None:
        return state, (protocol.UNKNOWN_ERROR,) if state == protocol.ERROR else ()
    return state, (reason,)


def code_reason(code: str, minor: str | None) -> str:
    """The reason of a failed SDK call (ReturnCode name), given the printer's state then."""
    if code in NEEDS_ACTION:
        reason = STATE_REASONS.get(minor or "")
        return reason if reason and reason != protocol.RIBBON_LOW else protocol.UNKNOWN_ERROR
    return CODE_REASONS.get(code, protocol.UNKNOWN_ERROR)


def uid_of_reply(reply: bytes | bytearray | None) -> str:
    """The card UID in the answer to GET DATA (FF CA 00 00 00): the bytes before `90 00`."""
    if reply is None or len(reply) < 2:
        raise PrinterFault(protocol.ENCODER_NOT_ANSWERING, "no answer to GET DATA (FF CA 00 00 00)")
    data, status = bytes(reply[:-2]), bytes(reply[-2:])
    if status == STATUS_NO_CARD:
        raise PrinterFault(protocol.NO_CARD_AT_ENCODER, "GET DATA answered 63 00 (no card)")
    if status != STATUS_OK or not data:
        raise PrinterFault(protocol.ENCODER_NOT_ANSWERING, f"GET DATA answered {bytes(reply).hex(' ').upper()}")
    return data.hex().upper()


class EvolisDriver:
    """An Evolis printer (and its contactless encoder) through the SDK module `sdk`."""

    def __init__(self, device: str, encoder: bool, sdk: Any = None):
        self._device = device
        self._encoder = encoder
        self._sdk = sdk
        self._co: Any = None
        self._encoder_silent = False

    # The connection ------------------------------------------------------------------

    def start(self) -> None:
        if self._sdk is None:
            self._sdk = load_sdk()
        try:
            self._connection()
        except PrinterFault:
            pass  # offline for now: status() says so, and connects when the printer answers

    def _connection(self) -> Any:
        """The open connection, opened again when the printer was unreachable."""
        if self._co is None or self._co.get_context() is None:
            co = self._sdk.Connection(self._device)
            self._co = co if co.get_context() is not None else None
        if self._co is None:
            raise PrinterFault(protocol.PRINTER_UNREACHABLE, f"cannot open printer {self._device!r}")
        return self._co

    def close(self) -> None:
        if self._co is not None:
            try:
                self._co.close()
            finally:
                self._co = None

    # The state -------------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        try:
            co = self._connection()
        except PrinterFault as fault:
            return PrinterStatus(protocol.OFFLINE, (protocol.PRINTER_UNREACHABLE,), None, fault.detail)
        sdk_state = co.get_state()
        if STATE_REASONS.get(sdk_state.minor.name) == protocol.MECHANICAL_ERROR:
            # "Cleared by the driver when it can": a jam the printer can clear by itself.
            co.clear_mechanical_errors()
            sdk_state = co.get_state()
        state, reasons = state_reasons(sdk_state.major.name, sdk_state.minor.name)
        ribbon = co.get_ribbon_info() if state != protocol.OFFLINE else None
        if self._encoder_silent and state in (protocol.READY, protocol.WARNING):
            state, reasons = protocol.WARNING, (*reasons, protocol.ENCODER_NOT_ANSWERING)
        return PrinterStatus(
            state, reasons, ribbon.remaining if ribbon is not None else None,
            detail=f"{sdk_state.major.name}/{sdk_state.minor.name}",
        )

    # The steps of one card ---------------------------------------------------------------

    def reserve(self, wait_seconds: float) -> None:
        co = self._connection()
        deadline = time.monotonic() + wait_seconds
        while True:
            left_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
            if co.reserve(wait_ms=min(5000, max(left_ms, 1))):
                return
            code = co.get_last_error().name
            if code != "SESSION_EBUSY" or left_ms <= 0:
                raise self._fault(code, "reserve")

    def release(self) -> None:
        if self._co is not None:
            self._co.release()

    def insert_card(self) -> None:
        co = self._connection()
        self._check(co.insert_card(), co, "insert_card")

    def read_uid(self) -> str:
        co = self._connection()
        self._check(co.set_card_pos(self._sdk.CardPos.CONTACTLESS), co, "set_card_pos(CONTACTLESS)")
        pcsc = self._sdk.PcscSession(co)
        encoders = pcsc.get_encoders_list()
        if not encoders:
            self._encoder_silent = True
            raise PrinterFault(protocol.ENCODER_NOT_ANSWERING, f"no PC/SC encoder ({pcsc.get_last_error().name})")
        reader = encoders[0].uid
        try:
            self._check(pcsc.connect(reader, self._sdk.PcscProtocol.ANY), pcsc, "PC/SC connect")
            reply = pcsc.send_apdu(reader, bytearray(GET_UID_APDU), 32)
            if reply is None:
                raise self._fault(pcsc.get_last_error().name, "PC/SC GET DATA")
        finally:
            pcsc.disconnect(reader, self._sdk.PcscDisposition.LEAVE)
        uid = uid_of_reply(reply)
        self._encoder_silent = False
        return uid

    def print_card(self, front: bytes, back: bytes | None, timeout_seconds: int) -> None:
        co = self._connection()
        session = self._sdk.PrintSession(co)
        self._check(session.init(), session, "PrintSession.init")
        session.set_auto_eject(False)
        self._check(session.set_image_buffer(self._sdk.CardFace.FRONT, bytearray(front)), session, "front image")
        if back is not None:
            self._check(session.set_image_buffer(self._sdk.CardFace.BACK, bytearray(back)), session, "back image")
        code = session.print(timeout_seconds * 1000)
        if code.name != "OK":
            raise self._fault(code.name, "print")

    def eject_card(self) -> None:
        co = self._connection()
        self._check(co.eject_card(), co, "eject_card")

    def reject_card(self) -> None:
        if self._co is not None:
            self._co.reject_card()

    # Faults ------------------------------------------------------------------------------

    def _check(self, ok: bool, source: Any, step: str) -> None:
        if not ok:
            raise self._fault(source.get_last_error().name, step)

    def _fault(self, code: str, step: str) -> PrinterFault:
        minor = None
        if code in NEEDS_ACTION and self._co is not None:
            minor = self._co.get_state().minor.name
        reason = code_reason(code, minor)
        if reason == protocol.ENCODER_NOT_ANSWERING:
            self._encoder_silent = True
        if reason == protocol.MECHANICAL_ERROR and self._co is not None:
            self._co.clear_mechanical_errors()
        return PrinterFault(reason, f"{step}: {code}" + (f" ({minor})" if minor else ""))
