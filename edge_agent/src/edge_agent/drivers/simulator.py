"""The simulated card printer: plays Evolis's SDK (the same classes, methods, return codes
and states, by the same names and values) over a model of the machine (feeder, ribbon,
the card inside, reject box, encoder), so the Evolis driver itself runs against it.

Time: printing a card takes `print_seconds` (+ `back_seconds` for a back face), moving it to
the encoder and reading it `encode_seconds`. UIDs are 7-byte NXP UIDs (04 + 6 random bytes).

With a `state_dir` the machine survives a restart of the agent (state.json: a card left
inside stays inside), every card that ink touched is logged (printed.jsonl: one line per
print started, with the card's UID and the SHA-256 of its faces) and faults are injected by
creating files in `state_dir/faults/`:

| file | effect |
|---|---|
| `offline` | the printer does not answer (while the file exists) |
| `busy` | another program holds the printer (while the file exists) |
| `cover_open`, `reject_box_full` | the printer is in error (while the file exists) |
| `jam` | the next print jams (mechanical error, cleared by clear_mechanical_errors) |
| `jam_stuck` | a jam cannot be cleared (while the file exists) |
| `no_card_at_encoder` | the next card does not answer at the encoder |
| `encoder_silent` | the encoder does not answer the next time |
| `timeout` | the next print times out |
| `unplug` | the cable is pulled at the next card: the printer goes `offline` (creates that file) |
| `refill` | the feeder is filled (to the number in the file, else `feeder_cards`) |
| `new_ribbon` | a new ribbon (`ribbon_cards` panels) |

One-shot files are removed when they take effect."""

from __future__ import annotations

import hashlib
import json
import os
import random
import struct
import threading
import time
from enum import Enum
from typing import Any

from edge_agent.config import SimulatorSettings
from edge_agent.drivers.evolis import EvolisDriver

CARD_WIDTH, CARD_HEIGHT = 1016, 648  # CR-80 at 300 dpi, landscape
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RANDOM_FAULTS = ("jam", "no_card_at_encoder", "encoder_silent")


# The SDK's names and values (evolis-sdk 9.4.1): the subset the simulator answers with. A test
# (tests/test_evolis_driver.py) checks each member against the real SDK's.
class ReturnCode(Enum):
    OK = 0
    EUNDEFINED = -1
    EPARAMS = -6
    ETIMEOUT = -7
    SESSION_EBUSY = -11
    PRINT_EDATA = -20
    PRINT_NEEDACTION = -21
    PRINT_EMECHANICAL = -22
    PRINTER_ENOCOM = -60
    CARD_ERROR = -200
    SMART_ENOCOM = -301
    SMART_ENOCARD = -302


class State:
    class Major(Enum):
        OFF = 0
        READY = 1
        WARNING = 2
        ERROR = 3

    class Minor(Enum):
        PRINTER_UNKNOWN = 0
        PRINTER_OFFLINE = 1
        PRINTER_READY = 6
        BUSY = 8
        INF_RIBBON_LOW = 42
        DEF_COVER_OPEN = 58
        DEF_FEEDER_EMPTY = 59
        DEF_REJECT_BOX_FULL = 67
        DEF_RIBBON_ENDED = 69
        ERR_MECHANICAL = 85

    def __init__(self, major: "State.Major", minor: "State.Minor"):
        self.major = major
        self.minor = minor


class CardPos(Enum):
    INSERT = 0
    EJECT = 3
    REJECT = 4
    CONTACTLESS = 6


class CardFace(Enum):
    FRONT = 0
    BACK = 1


class PcscProtocol(Enum):
    ANY = 4


class PcscDisposition(Enum):
    LEAVE = 1


class RibbonInfo:
    def __init__(self, capacity: int, remaining: int):
        self.capacity = capacity
        self.remaining = remaining


class PcscEncoder:
    def __init__(self, name: str, uid: int):
        self.name = name
        self.uid = uid


def png_size(image: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG (its IHDR chunk), None when it is not a PNG."""
    if len(image) < 24 or not image.startswith(PNG_MAGIC) or image[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", image[16:24])


class SimulatedPrinter:
    """The machine: stock, the card inside, faults; persisted in `state_dir` when given."""

    def __init__(self, settings: SimulatorSettings, device: str):
        self.settings = settings
        self.device = device
        self._lock = threading.RLock()
        self._rng = random.Random(settings.seed)
        self._dir = settings.state_dir
        self._printed_memory: list[dict[str, Any]] = []
        self.state: dict[str, Any] = {
            "card": None, "feeder": settings.feeder_cards, "ribbon": settings.ribbon_cards,
            "mechanical_error": False, "rejected": 0, "ejected": 0, "reserved": False, "pending": [],
            # The printer finds the feeder empty or the ribbon ended when it tries to use them.
            "feeder_alarm": False, "ribbon_alarm": False,
        }
        if self._dir is not None:
            (self._dir / "faults").mkdir(parents=True, exist_ok=True)
            if (self._dir / "state.json").exists():
                self.state.update(json.loads((self._dir / "state.json").read_text()))
            self.save()

    # Faults --------------------------------------------------------------------------------

    def fault(self, name: str) -> bool:
        """A fault that lasts while its file exists."""
        return self._dir is not None and (self._dir / "faults" / name).exists()

    def take_fault(self, name: str) -> bool:
        """A one-shot fault: true once, then gone."""
        if name in self.state["pending"]:
            self.state["pending"].remove(name)
            self.save()
            return True
        if self._dir is None:
            return False
        try:
            os.remove(self._dir / "faults" / name)
            return True
        except FileNotFoundError:
            return False

    def inject(self, name: str) -> None:
        """A one-shot fault for the next occasion (tests, random faults)."""
        self.state["pending"].append(name)
        self.save()

    def apply_maintenance(self) -> None:
        """An operator refilled the feeder or changed the ribbon."""
        if self._dir is None:
            return
        refill = self._dir / "faults" / "refill"
        if refill.exists():
            text = refill.read_text().strip()
            self.state["feeder"] = int(text) if text else self.settings.feeder_cards
            self.state["feeder_alarm"] = False
            refill.unlink(missing_ok=True)
            self.save()
        if self.take_fault("new_ribbon"):
            self.state["ribbon"] = self.settings.ribbon_cards
            self.state["ribbon_alarm"] = False
            self.save()

    # State ---------------------------------------------------------------------------------

    def save(self) -> None:
        if self._dir is None:
            return
        tmp = self._dir / "state.json.tmp"
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self._dir / "state.json")

    def log_print(self, entry: dict[str, Any]) -> None:
        """A card touched by ink: one line, flushed before the print goes on."""
        self._printed_memory.append(entry)
        if self._dir is None:
            return
        with open(self._dir / "printed.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
            log.flush()
            os.fsync(log.fileno())

    def printed(self) -> list[dict[str, Any]]:
        """Every print started, oldest first."""
        if self._dir is None:
            return list(self._printed_memory)
        path = self._dir / "printed.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def new_uid(self) -> str:
        return "04" + self._rng.getrandbits(48).to_bytes(6, "big").hex().upper()

    def current_state(self) -> tuple[State.Major, State.Minor]:
        self.apply_maintenance()
        s = self.state
        if self.fault("offline"):
            return State.Major.OFF, State.Minor.PRINTER_OFFLINE
        if s["mechanical_error"]:
            return State.Major.ERROR, State.Minor.ERR_MECHANICAL
        if self.fault("cover_open"):
            return State.Major.ERROR, State.Minor.DEF_COVER_OPEN
        if self.fault("reject_box_full"):
            return State.Major.ERROR, State.Minor.DEF_REJECT_BOX_FULL
        if s["feeder_alarm"]:
            return State.Major.ERROR, State.Minor.DEF_FEEDER_EMPTY
        if s["ribbon_alarm"]:
            return State.Major.ERROR, State.Minor.DEF_RIBBON_ENDED
        if self.fault("busy"):
            return State.Major.READY, State.Minor.BUSY
        if s["ribbon"] is not None and s["ribbon"] <= self.settings.ribbon_low_at:
            return State.Major.WARNING, State.Minor.INF_RIBBON_LOW
        return State.Major.READY, State.Minor.PRINTER_READY


class _Calls:
    """What the SDK's objects share: the last error, and the offline check."""

    def __init__(self, printer: SimulatedPrinter):
        self._printer = printer
        self._last_error = ReturnCode.OK

    def get_last_error(self) -> ReturnCode:
        return self._last_error

    def _result(self, code: ReturnCode) -> bool:
        self._last_error = code
        return code is ReturnCode.OK

    def _blocked(self) -> ReturnCode | None:
        """The code any call answers while the printer cannot act, else None."""
        major, minor = self._printer.current_state()
        if major is State.Major.OFF:
            return ReturnCode.PRINTER_ENOCOM
        if self._printer.state["mechanical_error"]:
            return ReturnCode.PRINT_EMECHANICAL
        if major is State.Major.ERROR:
            return ReturnCode.PRINT_NEEDACTION
        return None


class Connection(_Calls):
    def __init__(self, printer: SimulatedPrinter):
        super().__init__(printer)
        self._open = not printer.fault("offline")

    def get_context(self) -> object | None:
        return self if self._open else None

    def close(self) -> None:
        self._open = False

    def get_state(self) -> State:
        with self._printer._lock:
            major, minor = self._printer.current_state()
            self._last_error = ReturnCode.PRINTER_ENOCOM if major is State.Major.OFF else ReturnCode.OK
            return State(major, minor)

    def get_ribbon_info(self) -> RibbonInfo | None:
        remaining = self._printer.state["ribbon"]
        if remaining is None or self._printer.fault("offline"):
            return None
        return RibbonInfo(self._printer.settings.ribbon_cards or remaining, remaining)

    def reserve(self, session: int = 0, wait_ms: int = 5000) -> bool:
        p = self._printer
        if p.fault("offline"):
            return self._result(ReturnCode.PRINTER_ENOCOM)
        if p.fault("busy"):
            time.sleep(min(wait_ms, 200) / 1000)
            return self._result(ReturnCode.SESSION_EBUSY)
        p.state["reserved"] = True
        p.save()
        return self._result(ReturnCode.OK)

    def release(self) -> bool:
        self._printer.state["reserved"] = False
        self._printer.save()
        return self._result(ReturnCode.OK)

    def insert_card(self) -> bool:
        with self._printer._lock:
            return self._result(self._insert())

    def _insert(self) -> ReturnCode:
        p = self._printer
        blocked = self._blocked()
        if blocked is not None:
            return blocked
        if p.state["card"] is not None:
            return ReturnCode.CARD_ERROR
        if p.take_fault("unplug"):
            if p._dir is not None:
                (p._dir / "faults" / "offline").touch()
            return ReturnCode.PRINTER_ENOCOM
        if p.state["feeder"] is not None and p.state["feeder"] <= 0:
            p.state["feeder_alarm"] = True
            p.save()
            return ReturnCode.PRINT_NEEDACTION
        if p.state["feeder"] is not None:
            p.state["feeder"] -= 1
        p.state["card"] = {"uid": p.new_uid(), "position": "inside"}
        if p.settings.random_fault_rate and p._rng.random() < p.settings.random_fault_rate:
            p.inject(p._rng.choice(RANDOM_FAULTS))
        p.save()
        return ReturnCode.OK

    def set_card_pos(self, card_pos: CardPos) -> bool:
        with self._printer._lock:
            p = self._printer
            if card_pos is not CardPos.CONTACTLESS:
                return self._result(ReturnCode.EPARAMS)
            if p.state["card"] is None:
                code = self._insert()
                if code is not ReturnCode.OK:
                    return self._result(code)
            blocked = self._blocked()
            if blocked is not None:
                return self._result(blocked)
            time.sleep(p.settings.encode_seconds)
            p.state["card"]["position"] = "contactless"
            p.save()
            return self._result(ReturnCode.OK)

    def eject_card(self) -> bool:
        return self._out("ejected")

    def reject_card(self) -> bool:
        return self._out("rejected")

    def _out(self, where: str) -> bool:
        with self._printer._lock:
            p = self._printer
            if p.fault("offline"):
                return self._result(ReturnCode.PRINTER_ENOCOM)
            if p.state["card"] is None:
                return self._result(ReturnCode.CARD_ERROR)
            p.state["card"] = None
            p.state[where] += 1
            p.save()
            return self._result(ReturnCode.OK)

    def clear_mechanical_errors(self) -> bool:
        with self._printer._lock:
            p = self._printer
            if p.fault("offline"):
                return self._result(ReturnCode.PRINTER_ENOCOM)
            if p.fault("jam_stuck"):
                return self._result(ReturnCode.PRINT_EMECHANICAL)
            if p.state["mechanical_error"] and p.state["card"] is not None:
                p.state["card"] = None  # the jammed card goes to the reject box
                p.state["rejected"] += 1
            p.state["mechanical_error"] = False
            p.save()
            return self._result(ReturnCode.OK)


class PcscSession(_Calls):
    READER = 1

    def __init__(self, connection: Connection, max_size: int = 10):
        super().__init__(connection._printer)

    def get_encoders_list(self) -> list[PcscEncoder]:
        return [PcscEncoder(f"{self._printer.device} contactless", self.READER)]

    def connect(self, uid: int, protocol: PcscProtocol) -> bool:
        p = self._printer
        with p._lock:
            if p.fault("offline") or p.take_fault("encoder_silent"):
                return self._result(ReturnCode.SMART_ENOCOM)
            card = p.state["card"]
            if card is None or card["position"] != "contactless" or p.take_fault("no_card_at_encoder"):
                return self._result(ReturnCode.SMART_ENOCARD)
            return self._result(ReturnCode.OK)

    def send_apdu(self, uid: int, apdu: bytearray, apdu_reply_max_size: int = 20) -> bytearray | None:
        card = self._printer.state["card"]
        if card is None:
            self._last_error = ReturnCode.SMART_ENOCARD
            return None
        self._last_error = ReturnCode.OK
        if bytes(apdu) == bytes.fromhex("FFCA000000"):
            return bytearray(bytes.fromhex(card["uid"]) + b"\x90\x00")
        return bytearray(b"\x6d\x00")

    def disconnect(self, uid: int, disposition: PcscDisposition) -> bool:
        return self._result(ReturnCode.OK)


class PrintSession(_Calls):
    def __init__(self, connection: Connection):
        super().__init__(connection._printer)
        self._images: dict[CardFace, bytes] = {}

    def init(self) -> bool:
        self._images = {}
        return self._result(ReturnCode.PRINTER_ENOCOM if self._printer.fault("offline") else ReturnCode.OK)

    def set_auto_eject(self, value: bool) -> bool:
        return True

    def set_image_buffer(self, card_face: CardFace, buffer: bytearray) -> bool:
        if png_size(bytes(buffer)) != (CARD_WIDTH, CARD_HEIGHT):
            return self._result(ReturnCode.PRINT_EDATA)
        self._images[card_face] = bytes(buffer)
        return self._result(ReturnCode.OK)

    def print(self, timeout: int = 300000) -> ReturnCode:
        p = self._printer
        with p._lock:
            code = self._start_print()
            if code is not ReturnCode.OK:
                self._last_error = code
                return code
            seconds = p.settings.print_seconds + (p.settings.back_seconds if CardFace.BACK in self._images else 0)
        time.sleep(seconds)
        with p._lock:
            if p.state["ribbon"] is not None:
                p.state["ribbon"] -= 1
            p.state["card"]["printed"] = True
            p.save()
        self._last_error = ReturnCode.OK
        return ReturnCode.OK

    def _start_print(self) -> ReturnCode:
        p = self._printer
        if CardFace.FRONT not in self._images:
            return ReturnCode.PRINT_EDATA
        blocked = self._blocked()
        if blocked is not None:
            return blocked
        if p.state["card"] is None:
            code = Connection(p)._insert()
            if code is not ReturnCode.OK:
                return code
        if p.state["ribbon"] is not None and p.state["ribbon"] <= 0:
            p.state["ribbon_alarm"] = True
            p.save()
            return ReturnCode.PRINT_NEEDACTION
        card = p.state["card"]
        back = self._images.get(CardFace.BACK)
        p.log_print({
            "at": time.time(), "device": p.device, "uid": card["uid"],
            "front_sha256": hashlib.sha256(self._images[CardFace.FRONT]).hexdigest(),
            "back_sha256": hashlib.sha256(back).hexdigest() if back else None,
        })
        if p.take_fault("jam"):
            p.state["mechanical_error"] = True
            p.save()
            return ReturnCode.PRINT_EMECHANICAL
        if p.take_fault("timeout"):
            return ReturnCode.ETIMEOUT
        return ReturnCode.OK


class SimulatedSdk:
    """The `evolis` module as the driver uses it, bound to one simulated machine."""

    ReturnCode = ReturnCode
    State = State
    CardPos = CardPos
    CardFace = CardFace
    PcscProtocol = PcscProtocol
    PcscDisposition = PcscDisposition

    def __init__(self, printer: SimulatedPrinter):
        self.printer = printer

    def Connection(self, name: str) -> Connection:  # noqa: N802 (the SDK's name)
        return Connection(self.printer)

    def PcscSession(self, connection: Connection) -> PcscSession:  # noqa: N802
        return PcscSession(connection)

    def PrintSession(self, connection: Connection) -> PrintSession:  # noqa: N802
        return PrintSession(connection)


def simulated_driver(device: str, encoder: bool, settings: SimulatorSettings) -> EvolisDriver:
    """The Evolis driver over a simulated machine."""
    return EvolisDriver(device, encoder, sdk=SimulatedSdk(SimulatedPrinter(settings, device)))
