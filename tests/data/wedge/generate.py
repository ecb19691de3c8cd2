#!/usr/bin/env python3
"""Writes the recorded key-event streams of this directory (see README.md).

What each layout types on which key is written here by hand, from the
layouts' printed keyboards, not taken from xkb: the replay tests then check
that kassa's decoder, which goes through xkbcommon, agrees. Run it from
anywhere; it rewrites the *.txt files beside it.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

LETTERS_QWERTY = {c: "KEY_" + c.upper() for c in "abcdefghijklmnopqrstuvwxyz"}
DIGITS_TOP_ROW = {str(d): "KEY_%d" % d for d in range(10)}


def qwerty(extra):
    table = {}
    for c, key in LETTERS_QWERTY.items():
        table[c] = (key, "")
        table[c.upper()] = (key, "shift")
    for c, key in DIGITS_TOP_ROW.items():
        table[c] = (key, "")
    table.update(extra)
    return table


US = qwerty({
    "-": ("KEY_MINUS", ""), "_": ("KEY_MINUS", "shift"),
    "=": ("KEY_EQUAL", ""), "+": ("KEY_EQUAL", "shift"),
    "/": ("KEY_SLASH", ""), "?": ("KEY_SLASH", "shift"),
    ".": ("KEY_DOT", ""), ":": ("KEY_SEMICOLON", "shift"),
    "&": ("KEY_7", "shift"), "%": ("KEY_5", "shift"),
    "]": ("KEY_RIGHTBRACE", ""), "@": ("KEY_2", "shift"),
    " ": ("KEY_SPACE", ""),
})

# gb differs from us where it matters here: " is Shift+2, @ is Shift+'.
GB = dict(US)
GB.update({"\"": ("KEY_2", "shift"), "@": ("KEY_APOSTROPHE", "shift"),
           "#": ("KEY_BACKSLASH", "")})

# de is QWERTZ: y and z swap; - is right of the full stop; / is Shift+7.
DE = qwerty({
    "y": ("KEY_Z", ""), "Y": ("KEY_Z", "shift"),
    "z": ("KEY_Y", ""), "Z": ("KEY_Y", "shift"),
    "-": ("KEY_SLASH", ""), "_": ("KEY_SLASH", "shift"),
    "/": ("KEY_7", "shift"), "=": ("KEY_0", "shift"),
    "?": ("KEY_MINUS", "shift"), "+": ("KEY_RIGHTBRACE", ""),
    ".": ("KEY_DOT", ""), ":": ("KEY_DOT", "shift"),
    "&": ("KEY_6", "shift"), "%": ("KEY_5", "shift"),
    "@": ("KEY_Q", "altgr"), "]": ("KEY_9", "altgr"),
})


def azerty(extra):
    """fr and be: a/q and z/w swap, m is right of l, digits are shifted."""
    table = qwerty({})
    for c in "0123456789":
        table[c] = (DIGITS_TOP_ROW[c], "shift")
    swaps = {"a": "KEY_Q", "q": "KEY_A", "z": "KEY_W", "w": "KEY_Z", "m": "KEY_SEMICOLON"}
    for c, key in swaps.items():
        table[c] = (key, "")
        table[c.upper()] = (key, "shift")
    table.update(extra)
    return table


FR = azerty({
    "&": ("KEY_1", ""), "-": ("KEY_6", ""), "_": ("KEY_8", ""),
    ",": ("KEY_M", ""), "?": ("KEY_M", "shift"),
    ";": ("KEY_COMMA", ""), ".": ("KEY_COMMA", "shift"),
    ":": ("KEY_DOT", ""), "/": ("KEY_DOT", "shift"),
    "=": ("KEY_EQUAL", ""), "+": ("KEY_EQUAL", "shift"),
    "%": ("KEY_APOSTROPHE", "shift"),
    "@": ("KEY_0", "altgr"), "]": ("KEY_MINUS", "altgr"),
})

BE = azerty({
    "&": ("KEY_1", ""), "-": ("KEY_EQUAL", ""), "_": ("KEY_EQUAL", "shift"),
    ",": ("KEY_M", ""), "?": ("KEY_M", "shift"),
    ";": ("KEY_COMMA", ""), ".": ("KEY_COMMA", "shift"),
    ":": ("KEY_DOT", ""), "/": ("KEY_DOT", "shift"),
    "=": ("KEY_SLASH", ""), "+": ("KEY_SLASH", "shift"),
    "%": ("KEY_APOSTROPHE", "shift"), "@": ("KEY_2", "altgr"),
})

# jp (106/109 keys): @ and : have keys of their own; = is Shift+-.
JP = qwerty({
    "-": ("KEY_MINUS", ""), "=": ("KEY_MINUS", "shift"),
    "@": ("KEY_LEFTBRACE", ""), ":": ("KEY_APOSTROPHE", ""),
    "+": ("KEY_SEMICOLON", "shift"), "&": ("KEY_6", "shift"),
    "%": ("KEY_5", "shift"), "_": ("KEY_RO", "shift"),
    "]": ("KEY_BACKSLASH", ""), "/": ("KEY_SLASH", ""),
    "?": ("KEY_SLASH", "shift"), ".": ("KEY_DOT", ""),
})

MODIFIER_KEY = {"shift": "KEY_LEFTSHIFT", "altgr": "KEY_RIGHTALT"}


class Stream:
    def __init__(self, hold=1000, gap=1000):
        self.t = 1_000_000
        self.lines = []
        self.hold = hold
        self.gap = gap

    def event(self, key, value):
        self.lines.append("%d %s %d" % (self.t, key, value))

    def tap(self, key, mods=""):
        if mods:
            self.event(MODIFIER_KEY[mods], 1)
            self.t += self.gap
        self.event(key, 1)
        self.t += self.hold
        self.event(key, 0)
        self.t += self.gap
        if mods:
            self.event(MODIFIER_KEY[mods], 0)
            self.t += self.gap

    def type(self, table, text):
        for c in text:
            key, mods = table[c]
            self.tap(key, mods)

    def alt_code(self, digits):
        self.event("KEY_LEFTALT", 1)
        self.t += self.gap
        for d in digits:
            self.tap("KEY_KP%s" % d)
        self.event("KEY_LEFTALT", 0)
        self.t += self.gap

    def enter(self):
        self.tap("KEY_ENTER")

    def pause(self, us):
        self.t += us


def escape(data):
    out = []
    for c in data:
        if c == "\\":
            out.append("\\\\")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or c == " ":
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    return "".join(out)


def write(name, about, headers, expect, stream):
    lines = ["# " + line for line in about]
    lines += ["# %s: %s" % (k, v) for k, v in headers]
    for e in expect:
        if e.startswith("error:"):
            lines.append("# expect-error: " + e[len("error:"):])
        else:
            lines.append("# expect: " + escape(e))
    lines += stream.lines
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


WECHAT = "134567890123456789"
ALIPAY = "2812345678901234"


def main():
    s = Stream()
    s.type(US, WECHAT)
    s.enter()
    write("us-payment-code.txt", ["A WeChat Pay code from a scanner set to US, Enter after it."],
          [("layout", "us")], [WECHAT], s)

    s = Stream()
    url = "https://Pay.Example/QR?id=AB-12_x&v=3%2F"
    s.type(US, url)
    s.enter()
    write("us-shift-around-capitals.txt",
          ["Lower case, symbols, and a Shift press and release around every capital",
           "and shifted symbol, as scanners type them."],
          [("layout", "us")], [url], s)

    s = Stream()
    code = "Zahlung-42/xyz:AB@]"
    s.type(DE, code)
    s.enter()
    write("de-qwertz.txt", ["German QWERTZ: y and z swapped, / and : shifted, @ and ] with AltGr."],
          [("layout", "de")], [code], s)

    s = Stream()
    s.type(FR, ALIPAY)
    s.enter()
    s.pause(200_000)
    text = "Paiement-QR:amz/w?1"
    s.type(FR, text)
    s.enter()
    write("fr-azerty.txt",
          ["French AZERTY: every digit needs Shift; a/q, z/w and m move."],
          [("layout", "fr")], [ALIPAY, text], s)

    s = Stream()
    text = "ORDER@\"42\"#7"
    s.type(GB, text)
    s.enter()
    write("gb.txt", ["UK: \" is Shift+2, @ is Shift+', # has its own key."],
          [("layout", "gb")], [text], s)

    s = Stream()
    text = "Betaling-" + WECHAT + ".be/q=1"
    s.type(BE, text)
    s.enter()
    write("be-azerty.txt", ["Belgian AZERTY: shifted digits; - and = on keys of their own."],
          [("layout", "be")], [text], s)

    s = Stream()
    text = "PAY:" + ALIPAY + "@x=1&y_2"
    s.type(JP, text)
    s.enter()
    write("jp.txt", ["Japanese 106/109: @ and : unshifted on their own keys, = is Shift+-, _ is Shift+Ro."],
          [("layout", "jp")], [text], s)

    s = Stream(hold=800, gap=0)
    s.type(US, WECHAT)
    s.enter()
    write("fast-no-gap.txt",
          ["A fast scanner: the next key goes down in the same microsecond the last went up."],
          [("layout", "us")], [WECHAT], s)

    s = Stream()
    # Key-down of the next key before key-up of the last: rollover.
    for i, c in enumerate(ALIPAY):
        key, _ = US[c]
        s.event(key, 1)
        s.t += 300
        if i > 0:
            prev, _ = US[ALIPAY[i - 1]]
            s.event(prev, 0)
        s.t += 300
    s.event(US[ALIPAY[-1]][0], 0)
    s.t += 300
    s.enter()
    write("rollover.txt", ["Overlapping keys: each key goes down before the one before it comes up."],
          [("layout", "us")], [ALIPAY], s)

    s = Stream()
    s.type(US, "]C1")
    s.type(US, "0109501101530003")
    s.alt_code("029")
    s.type(US, "10ABC")
    s.alt_code("0128")
    s.enter()
    write("alt-numpad.txt",
          ["GS1-128 with an AIM id; FNC1 sent as Alt+029 (GS) and a euro sign as",
           "Alt+0128 (Windows-1252), as scanners in Alt-keypad mode send them."],
          [("layout", "us"), ("aim-ids", "yes"), ("symbology", "gs1-128")],
          ["0109501101530003\x1d10ABC\u20ac"], s)

    s = Stream()
    s.type(US, WECHAT)
    s.pause(300_000)
    s.type(US, ALIPAY)
    write("no-terminator.txt",
          ["No terminator: each scan ends when the keys stop (idle gap, 50 ms)."],
          [("layout", "us"), ("terminator", "none")], [WECHAT, ALIPAY], s)

    s = Stream()
    s.type(US, "12")
    s.tap("KEY_RO")
    s.type(US, "34")
    s.enter()
    s.pause(100_000)
    s.type(US, WECHAT)
    s.enter()
    write("unmapped-key.txt",
          ["A key the layout has nothing on (the JIS Ro key on us): that scan is",
           "dropped with a named error, and the next one decodes."],
          [("layout", "us")], ["error:unmapped-key", WECHAT], s)

    s = Stream()
    s.tap("KEY_CAPSLOCK")
    s.type(US, "abc")
    s.tap("KEY_CAPSLOCK")
    s.type(US, "-123")
    s.enter()
    write("caps-lock.txt",
          ["A scanner that toggles Caps Lock around upper-case letters instead of Shift."],
          [("layout", "us")], ["ABC-123"], s)

    s = Stream()
    s.type(US, "]Q1" + WECHAT)
    s.tap("KEY_TAB")
    write("aim-qr-tab.txt", ["An AIM id (]Q1, QR) and Tab as the terminator."],
          [("layout", "us"), ("terminator", "tab"), ("aim-ids", "yes"), ("symbology", "qr")],
          [WECHAT], s)


if __name__ == "__main__":
    main()
