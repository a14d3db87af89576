"""The Evolis driver: the real SDK loads here without a printer; without its native library
the driver says so at start; and every SDK return code and printer state maps to the
protocol's reasons, through the driver's own calls, against a fake of the SDK's interface
(the real SDK's enums, fake connection and sessions: no printer is attached here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path

import evolis
import pytest

from edge_agent import protocol
from edge_agent.drivers import simulator
from edge_agent.drivers.base import DriverUnavailable, PrinterFault
from edge_agent.drivers.evolis import (
    CODE_REASONS,
    NEEDS_ACTION,
    STATE_REASONS,
    EvolisDriver,
    load_sdk,
    uid_of_reply,
)

AGENT_ROOT = Path(__file__).resolve().parents[1]

# What the protocol's table says, written out independently of the driver's tables.
EXPECTED_CODE_REASONS = {
    "PRINT_EMECHANICAL": "mechanical_error", "CARD_ERROR": "mechanical_error", "CARD_EINSERTION": "mechanical_error",
    "SMART_ENOCARD": "no_card_at_encoder",
    "SMART_ENOCOM": "encoder_not_answering", "SMART_ERROR": "encoder_not_answering",
    "SMART_EBUSY": "encoder_not_answering",
    "PRINTER_ENOCOM": "printer_unreachable", "SVC_ENOCOM": "printer_unreachable",
    "PRINTER_NETWORK_ERROR": "printer_unreachable", "SYSTEM_ENETWORK": "printer_unreachable",
    "HTTP_ERROR": "printer_unreachable",
    "SESSION_EBUSY": "printer_busy", "PRINTER_EOTHER": "printer_busy", "PRINTER_EBUSY": "printer_busy",
    "SYSTEM_EBUSY": "printer_busy", "SANDBOX_EBUSY": "printer_busy",
    "ETIMEOUT": "timeout", "SESSION_ETIMEOUT": "timeout",
}
NEEDACTION_STATES = {
    "DEF_FEEDER_EMPTY": "feeder_empty", "ERR_FEEDER_EMPTY": "feeder_empty",
    "DEF_RIBBON_ENDED": "ribbon_ended", "ERR_RIBBON_ENDED": "ribbon_ended", "DEF_NO_RIBBON": "ribbon_ended",
    "DEF_COVER_OPEN": "cover_open", "ERR_COVER_OPEN": "cover_open",
    "DEF_REJECT_BOX_FULL": "reject_box_full", "ERR_REJECT_BOX_FULL": "reject_box_full",
}


class FakeConnection:
    """evolis.Connection's interface: each call answers OK unless told to fail with a code."""

    def __init__(self, sdk: "FakeSdk"):
        self.sdk = sdk
        self._last = evolis.ReturnCode.OK

    def _call(self, name: str, *args) -> bool:
        self.sdk.calls.append((name, *args))
        code = self.sdk.failures.get(name, evolis.ReturnCode.OK)
        if isinstance(code, list):
            code = code.pop(0) if code else evolis.ReturnCode.OK
        self._last = code
        return code == evolis.ReturnCode.OK

    def get_context(self):
        return None if self.sdk.unreachable else object()

    def get_last_error(self):
        return self._last

    def get_state(self):
        self.sdk.calls.append(("get_state",))
        major, minor = self.sdk.states.pop(0) if len(self.sdk.states) > 1 else self.sdk.states[0]
        return evolis.State(evolis.State.Major[major], evolis.State.Minor[minor])

    def get_ribbon_info(self):
        return None

    def reserve(self, session=0, wait_ms=5000):
        return self._call("reserve")

    def release(self):
        return self._call("release")

    def insert_card(self):
        return self._call("insert_card")

    def set_card_pos(self, pos):
        return self._call("set_card_pos", pos)

    def eject_card(self):
        return self._call("eject_card")

    def reject_card(self):
        return self._call("reject_card")

    def clear_mechanical_errors(self):
        return self._call("clear_mechanical_errors")

    def close(self):
        self.sdk.calls.append(("close",))


class FakePcsc(FakeConnection):
    def get_encoders_list(self):
        return [evolis.PcscEncoder(_encoder())]

    def connect(self, uid, proto):
        return self._call("pcsc_connect", uid, proto)

    def send_apdu(self, uid, apdu, size=20):
        self.sdk.calls.append(("send_apdu", bytes(apdu)))
        if "send_apdu" in self.sdk.failures:
            self._last = self.sdk.failures["send_apdu"]
            return None
        return bytearray(self.sdk.reply)

    def disconnect(self, uid, disposition):
        return self._call("pcsc_disconnect", disposition)


def _encoder():
    from evolis.PcscEncoder import _CPcscEncoder

    raw = _CPcscEncoder()
    raw.name, raw.uid = b"Evolis contactless", 3
    return raw


class FakePrintSession(FakeConnection):
    def init(self):
        return self._call("ps_init")

    def set_auto_eject(self, value):
        self.sdk.calls.append(("set_auto_eject", value))
        return True

    def set_image_buffer(self, face, buffer):
        return self._call("set_image_buffer", face)

    def print(self, timeout=300000):
        self._call("print")
        return self._last


class FakeSdk:
    """The `evolis` module as the driver uses it: the real enums, fake objects."""

    ReturnCode, State, CardPos, CardFace = evolis.ReturnCode, evolis.State, evolis.CardPos, evolis.CardFace
    PcscProtocol, PcscDisposition = evolis.PcscProtocol, evolis.PcscDisposition

    def __init__(self, *, failures=None, states=None, reply=bytes.fromhex("04A1B2C3D4E5F69000")):
        self.failures = failures or {}
        self.states = states or [("READY", "PRINTER_READY")]
        self.reply = reply
        self.unreachable = False
        self.calls: list[tuple] = []

    def Connection(self, name):  # noqa: N802
        return FakeConnection(self)

    def PcscSession(self, co):  # noqa: N802
        return FakePcsc(self)

    def PrintSession(self, co):  # noqa: N802
        return FakePrintSession(self)


def started(sdk: FakeSdk) -> EvolisDriver:
    driver = EvolisDriver("Evolis Primacy 2", True, sdk=sdk)
    driver.start()
    return driver


def one_card(driver: EvolisDriver) -> str:
    driver.reserve(1)
    driver.insert_card()
    uid = driver.read_uid()
    driver.print_card(b"front", b"back", 60)
    driver.eject_card()
    driver.release()
    return uid


def test_a_card_follows_the_vendors_sequence():
    sdk = FakeSdk()
    assert one_card(started(sdk)) == "04A1B2C3D4E5F6"
    assert sdk.calls == [
        ("reserve",), ("insert_card",), ("set_card_pos", evolis.CardPos.CONTACTLESS),
        ("pcsc_connect", 3, evolis.PcscProtocol.ANY), ("send_apdu", bytes.fromhex("FFCA000000")),
        ("pcsc_disconnect", evolis.PcscDisposition.LEAVE), ("ps_init",), ("set_auto_eject", False),
        ("set_image_buffer", evolis.CardFace.FRONT), ("set_image_buffer", evolis.CardFace.BACK), ("print",),
        ("eject_card",), ("release",),
    ]


@pytest.mark.parametrize("code", [c for c in evolis.ReturnCode if c is not evolis.ReturnCode.OK], ids=lambda c: c.name)
def test_every_sdk_return_code_maps_to_a_reason(code):
    sdk = FakeSdk(failures={"insert_card": code}, states=[("ERROR", "DEF_COVER_OPEN")])
    driver = started(sdk)
    with pytest.raises(PrinterFault) as failure:
        driver.insert_card()
    if code.name in ("PRINT_NEEDACTION", "ENEEDACTION"):
        expected = "cover_open"  # what the printer's state says
    else:
        expected = EXPECTED_CODE_REASONS.get(code.name, "unknown_error")
    assert failure.value.reason == expected
    assert code.name in failure.value.detail and failure.value.reason in protocol.REASONS
    # "Cleared by the driver when it can": a mechanical error is cleared at once.
    assert (("clear_mechanical_errors",) in sdk.calls) == (expected == "mechanical_error")


@pytest.mark.parametrize("minor", [m.name for m in evolis.State.Minor])
def test_print_needaction_takes_its_reason_from_every_printer_state(minor):
    sdk = FakeSdk(failures={"print": evolis.ReturnCode.PRINT_NEEDACTION}, states=[("ERROR", minor)])
    with pytest.raises(PrinterFault) as failure:
        started(sdk).print_card(b"front", None, 60)
    expected = NEEDACTION_STATES.get(minor)
    if expected is None:
        assert failure.value.reason in ("unknown_error", "mechanical_error", "printer_unreachable",
                                        "feeder_empty", "ribbon_ended", "cover_open", "printer_busy"), minor
    else:
        assert failure.value.reason == expected
    assert minor in failure.value.detail


@pytest.mark.parametrize("major, minor, state, reasons", [
    ("READY", "PRINTER_READY", "ready", []),
    ("READY", "BUSY", "ready", ["printer_busy"]),
    ("WARNING", "INF_RIBBON_LOW", "warning", ["ribbon_low"]),
    ("WARNING", "INF_CLEANING_REQUIRED", "warning", []),
    ("ERROR", "DEF_FEEDER_EMPTY", "error", ["feeder_empty"]),
    ("ERROR", "ERR_RIBBON_ENDED", "error", ["ribbon_ended"]),
    ("ERROR", "DEF_COVER_OPEN", "error", ["cover_open"]),
    ("ERROR", "DEF_REJECT_BOX_FULL", "error", ["reject_box_full"]),
    ("ERROR", "ERR_HEAD_TEMP", "error", ["unknown_error"]),
    ("OFF", "PRINTER_OFFLINE", "offline", ["printer_unreachable"]),
    ("OFF", "PRINTER_UNKNOWN", "offline", ["printer_unreachable"]),
])
def test_printer_states_map_to_heartbeat_states(major, minor, state, reasons):
    status = started(FakeSdk(states=[(major, minor)])).status()
    assert (status.state, list(status.reasons)) == (state, reasons)


def test_a_mechanical_error_is_cleared_then_the_state_read_again():
    sdk = FakeSdk(states=[("ERROR", "ERR_MECHANICAL"), ("READY", "PRINTER_READY")])
    status = started(sdk).status()
    assert ("clear_mechanical_errors",) in sdk.calls and status.state == "ready"
    stuck = FakeSdk(states=[("ERROR", "ERR_MECHANICAL")], failures={"clear_mechanical_errors": evolis.ReturnCode.PRINT_EMECHANICAL})
    assert started(stuck).status().reasons == ("mechanical_error",)


def test_an_unreachable_printer_is_offline_then_reconnected():
    sdk = FakeSdk()
    sdk.unreachable = True
    driver = started(sdk)
    assert (driver.status().state, driver.status().reasons) == ("offline", ("printer_unreachable",))
    with pytest.raises(PrinterFault) as failure:
        driver.reserve(1)
    assert failure.value.reason == "printer_unreachable"
    sdk.unreachable = False
    assert driver.status().state == "ready"


def test_a_busy_printer_is_retried_until_free():
    busy = evolis.ReturnCode.SESSION_EBUSY
    sdk = FakeSdk(failures={"reserve": [busy, busy, evolis.ReturnCode.OK]})
    started(sdk).reserve(5)
    assert sdk.calls.count(("reserve",)) == 3


def test_an_encoder_that_did_not_answer_shows_as_a_warning_until_a_uid_is_read():
    sdk = FakeSdk(failures={"pcsc_connect": [evolis.ReturnCode.SMART_ENOCOM]})
    driver = started(sdk)
    with pytest.raises(PrinterFault):
        driver.read_uid()
    assert (driver.status().state, driver.status().reasons) == ("warning", ("encoder_not_answering",))
    driver.read_uid()
    assert driver.status().state == "ready"


@pytest.mark.parametrize("reply, outcome", [
    ("04A1B2C3D4E5F6 9000", "04A1B2C3D4E5F6"),
    ("DEADBEEF 9000", "DEADBEEF"),
    ("6300", "no_card_at_encoder"),
    ("6A81", "encoder_not_answering"),
    ("9000", "encoder_not_answering"),
    ("", "encoder_not_answering"),
])
def test_the_uid_is_the_data_before_status_word_90_00(reply, outcome):
    raw = bytearray(bytes.fromhex(reply.replace(" ", "")))
    if outcome.isupper() or outcome[0].isdigit():
        assert uid_of_reply(raw) == outcome
    else:
        with pytest.raises(PrinterFault) as failure:
            uid_of_reply(raw)
        assert failure.value.reason == outcome


def test_the_driver_tables_name_only_what_the_sdk_has():
    codes = {c.name for c in evolis.ReturnCode}
    minors = {m.name for m in evolis.State.Minor}
    assert set(CODE_REASONS) | NEEDS_ACTION <= codes
    assert set(STATE_REASONS) <= minors
    assert set(CODE_REASONS.values()) | set(STATE_REASONS.values()) <= protocol.REASONS


@pytest.mark.parametrize("name", ["ReturnCode", "CardPos", "CardFace", "PcscProtocol", "PcscDisposition"])
def test_the_simulator_speaks_the_sdks_names_and_values(name):
    ours: type[Enum] = getattr(simulator, name)
    real: type[Enum] = getattr(evolis, name)
    assert {m.name: m.value for m in ours}.items() <= {m.name: m.value for m in real}.items()


def test_the_simulator_states_are_the_sdks():
    for ours, real in ((simulator.State.Major, evolis.State.Major), (simulator.State.Minor, evolis.State.Minor)):
        assert {m.name: m.value for m in ours}.items() <= {m.name: m.value for m in real}.items()


# The real SDK ------------------------------------------------------------------------------

def test_the_real_sdk_loads_and_an_absent_printer_is_offline():
    sdk = load_sdk()
    assert sdk.Evolis.wrapper is not None and sdk.Evolis.get_version()
    driver = EvolisDriver("Evolis Primacy 2 (not attached)", True)
    driver.start()
    status = driver.status()
    assert (status.state, status.reasons) == ("offline", ("printer_unreachable",))
    with pytest.raises(PrinterFault) as failure:
        driver.insert_card()
    assert failure.value.reason == "printer_unreachable"


def test_without_the_sdk_the_driver_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "evolis", None)
    with pytest.raises(DriverUnavailable, match=r"pip install 'ticketing-edge-agent\[evolis\]'"):
        EvolisDriver("Evolis Primacy 2", True).start()


@pytest.fixture
def sdk_without_native_library(tmp_path) -> Path:
    """The SDK's Python files without its lib/ folder (the vendor's library absent)."""
    installed = Path(evolis.__file__).parent
    copy = tmp_path / "site" / "evolis"
    copy.mkdir(parents=True)
    for source in installed.glob("*.py"):
        shutil.copy(source, copy / source.name)
    return copy.parent


def test_without_the_native_library_importing_the_sdk_raises_oserror(sdk_without_native_library):
    run = subprocess.run([sys.executable, "-c", "import evolis"], capture_output=True, text=True,
                         env={"PYTHONPATH": str(sdk_without_native_library)})
    assert run.returncode == 1
    assert "OSError" in run.stderr and "libevolis.so: cannot open shared object file" in run.stderr


def test_without_the_native_library_the_agent_stops_at_start_with_a_clear_message(sdk_without_native_library, site):
    config = site.tmp / "agent.toml"
    config.write_text(site.config_text([{"printer_id": "printer-1", "driver": "evolis"}]))
    for command in ("check", "run"):
        run = subprocess.run(
            [sys.executable, "-m", "edge_agent", command, "--config", str(config)], capture_output=True, text=True,
            env={"PYTHONPATH": f"{sdk_without_native_library}:{AGENT_ROOT / 'src'}", "PATH": "/usr/bin:/bin",
                 "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}, timeout=60,
        )
        assert run.returncode == 3, run.stderr
        assert "the Evolis SDK is installed but its native library could not be loaded" in run.stderr
        assert "libevolis.so" in run.stderr
    site.poll()
    assert site.results == [] and sum(site.queue_counts()) == 0  # it took nothing


def test_check_prints_each_printers_state(site):
    config = site.tmp / "agent.toml"
    config.write_text(site.config_text([{"printer_id": "printer-1"}, {"printer_id": "printer-2", "driver": "evolis"}]))
    run = subprocess.run([sys.executable, "-m", "edge_agent", "check", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(x["printer_id"], x["state"]) for x in lines] == [("printer-1", "ready"), ("printer-2", "offline")]
