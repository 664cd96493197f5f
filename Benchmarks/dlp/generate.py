#!/usr/bin/env python3
"""Writes fixtures/dlp/labelled.jsonl: sentences with personal data and secrets of each DLP
detector's kind, with their spans labelled (code-point offsets), and look-alikes that must not
match (Luhn-failing card numbers, IBANs failing mod 97, order numbers, versions, dates, code).
Deterministic (seeded): `python3 Benchmarks/dlp/generate.py` rewrites the same file."""
import json, random, string

rng = random.Random(20261206)

def luhn_digit(body):
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            if n > 9: n -= 9
        total += n
    return str((10 - total % 10) % 10)

def card():
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("4", 13), ("62", 19)])
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    number = body + luhn_digit(body)
    style = rng.choice(["plain", "space", "dash"])
    if style == "plain" or length not in (15, 16): return number
    sep = " " if style == "space" else "-"
    if length == 15: return sep.join([number[:4], number[4:10], number[10:]])
    return sep.join(number[i:i + 4] for i in range(0, 16, 4))

def bad_card():
    c = card().replace(" ", "").replace("-", "")
    last = str((int(c[-1]) + rng.randint(1, 9)) % 10)
    return c[:-1] + last

IBAN_SHAPES = {"DE": "8n10n", "GB": "4a14n", "FR": "10n11c2n", "NL": "4a10n", "ES": "20n", "IT": "1a10n12c", "BE": "12n", "CH": "5n12c", "PL": "24n", "AT": "16n"}

def bban(shape):
    out, num = "", ""
    for ch in shape:
        if ch.isdigit(): num += ch; continue
        n = int(num); num = ""
        pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}[ch]
        out += "".join(rng.choice(pool) for _ in range(n))
    return out

def iban(valid=True):
    cc = rng.choice(list(IBAN_SHAPES))
    b = bban(IBAN_SHAPES[cc])
    rearranged = b + cc + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - num % 97
    if not valid: check = (check + rng.randint(1, 50)) % 97 + 2
    value = f"{cc}{check:02d}{b}"
    if rng.random() < 0.5: value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value

def ssn():
    while True:
        a = rng.randint(1, 899)
        if a != 666: break
    sep = rng.choice(["-", "-", " "])
    return f"{a:03d}{sep}{rng.randint(1, 99):02d}{sep}{rng.randint(1, 9999):04d}"

def phone():
    n = lambda k: "".join(rng.choice(string.digits) for _ in range(k))
    return rng.choice([
        f"+1 {rng.randint(201, 989)} {n(3)} {n(4)}", f"({rng.randint(201, 989)}) {n(3)}-{n(4)}", f"{rng.randint(201, 989)}-{n(3)}-{n(4)}",
        f"{rng.randint(201, 989)}.{n(3)}.{n(4)}", f"+44 20 {n(4)} {n(4)}", f"+44 7{n(3)} {n(6)}", f"020 {n(4)} {n(4)}",
        f"+33 {rng.randint(1, 9)} {n(2)} {n(2)} {n(2)} {n(2)}", f"0{rng.randint(1, 9)} {n(2)} {n(2)} {n(2)} {n(2)}",
        f"+49 30 {n(8)}", f"030 {n(8)}", f"+91 {n(5)} {n(5)}", f"+1-800-{n(3)}-{n(4)}", f"1-800-{n(3)}-{n(4)}",
        f"+61 2 {n(4)} {n(4)}", f"+{rng.randint(30, 99)}{n(9)}", f"+1 ({rng.randint(201, 989)}) {n(3)}-{n(4)}",
        f"+44 (0)20 {n(4)} {n(4)}", f"{rng.randint(201, 989)} {n(3)} {n(4)}",
    ])

def email():
    user = rng.choice(["jane.doe", "j.smith", "maria_garcia", "li.wei+news", "o.connor", "admin", "k-lee", "user123"])
    domain = rng.choice(["example.com", "mail.example.org", "corp.example.co.uk", "uni-example.edu", "example.io"])
    address = f"{user}@{domain}"
    return address.upper() if rng.random() < 0.1 else address

def ip():
    if rng.random() < 0.6:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return rng.choice(["2001:db8::" + format(rng.randint(1, 65535), "x"), "fe80::1ff:fe23:4567:890a", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::1",
                       "2606:4700:4700::1111"])

def token(n, pool=string.ascii_letters + string.digits):
    return "".join(rng.choice(pool) for _ in range(n))

def secret():
    return rng.choice([
        "sk-proj-" + token(40), "sk-ant-api03-" + token(60), "AKIA" + token(16, string.ascii_uppercase + string.digits),
        "ghp_" + token(36), "github_pat_11" + token(20) + "_" + token(59), "xoxb-" + token(12, string.digits) + "-" + token(24),
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJ" + token(30) + "." + token(43),
    ])

MAKERS = {"card": card, "iban": iban, "ssn": ssn, "phone": phone, "email": email, "ip": ip, "secret": secret}
TEMPLATES = {
    "card": ["Please charge my card {} for the order.", "The card number is {}, expiry 09/27.", "Use {} to pay the invoice."],
    "iban": ["Transfer the refund to IBAN {} please.", "My account: {}.", "Wire it to {} by Friday."],
    "ssn": ["My SSN is {} for the form.", "Social security number: {}", "He gave {} as his SSN."],
    "phone": ["Call me on {} tomorrow.", "Our office number is {}.", "Text {} when you arrive."],
    "email": ["Send the report to {} please.", "Contact: {}", "Reply to {} with the figures.", "From: Jane <{}>"],
    "ip": ["The server at {} is down.", "Block traffic from {} now.", "Connect to {} on port 22.", "Allow {}/24 in the firewall."],
    "secret": ["My API key is {} and it fails.", "export TOKEN={}", "Why does {} return 401?"],
}
NEGATIVES = [
    lambda: f"Card-like {bad_card()} fails the check.",
    lambda: f"Order number {rng.randint(10**11, 10**13)} has shipped.",
    lambda: f"Tracking ID {rng.randint(10**19, 10**21)} is in transit.",
    lambda: f"Upgrade to version {rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)} or v{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}-beta.",
    lambda: f"The meeting is on 2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} at {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}.",
    lambda: f"Invalid IBAN {iban(valid=False)} was rejected.",
    lambda: f"In code: `user@localhost`, `@Published var x`, `icon@2x.png`.",
    lambda: f"The hash is {token(40, '0123456789abcdef')}.",
    lambda: f"ISBN 978-{rng.randint(0, 9)}-{rng.randint(10, 99)}-{rng.randint(100000, 999999)}-{rng.randint(0, 9)} is out of print.",
    lambda: f"Coordinates {rng.uniform(-90, 90):.4f}, {rng.uniform(-180, 180):.4f} are approximate.",
    lambda: f"It costs ${rng.randint(1, 9)},{rng.randint(100, 999)}.{rng.randint(10, 99)} plus tax.",
    lambda: f"Use std::vector and Foo::bar in C++, ratio 16:9, time 12:30:45.",
    lambda: f"The key sk-short is not real and AKIA123 is too short.",
    lambda: f"SSN-like {rng.choice(['000', '666', '912'])}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} is never issued.",
    lambda: f"Population {rng.randint(1, 9)},{rng.randint(100, 999)},{rng.randint(100, 999)} in {rng.randint(1990, 2024)}.",
    lambda: f"UUID {token(8, '0123456789abcdef')}-{token(4, '0123456789abcdef')}-4{token(3, '0123456789abcdef')}-a{token(3, '0123456789abcdef')}-{token(12, '0123456789abcdef')}.",
]

rows = []
for kind, make in MAKERS.items():
    for i in range(60):
        value = make()
        template = rng.choice(TEMPLATES[kind])
        text = template.format(value)
        start = text.index(value)
        rows.append({"text": text, "spans": [{"type": kind, "start": start, "end": start + len(value)}]})
for i in range(160):
    rows.append({"text": rng.choice(NEGATIVES)(), "spans": []})
# Several values in one sentence.
for i in range(40):
    kinds = rng.sample(list(MAKERS), 3)
    text, spans = "Details:", []
    for k in kinds:
        value = MAKERS[k]()
        text += " " + k + " "
        spans.append({"type": k, "start": len(text), "end": len(text) + len(value)})
        text += value + ";"
    rows.append({"text": text, "spans": spans})
rng.shuffle(rows)
with open("fixtures/dlp/labelled.jsonl", "w") as f:
    for r in rows: f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), "rows")
