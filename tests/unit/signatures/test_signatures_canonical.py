import json

import pytest
import rfc8785

from signatures.canonical import canonical_json, parse_canonical, sha256_hex
from signatures.errors import VerificationError


def test_rfc8785_example_from_the_standard_is_reproduced():
    # RFC 8785 §3.2.2 / appendix example input and expected output.
    obj = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
           "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/", "literals": [None, True, False]}
    expected = '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' \
               '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical_json(obj) == expected.encode("utf-8")


@pytest.mark.parametrize("obj", [
    {"b": 1, "a": [True, None, "x"], "c": {"z": "", "y": -12}},
    {"罚款": 5000, "当事人": "某某诊所", "控制": "\x00\x01\x1f\x7f\t\b\f\r\n", "quote": "\"\\/"},
    {"\ue000": 1, "\U0001f600": 2, "a": "😀"},  # astral vs private-use key order differs in UTF-16
    {"big": 2**53 - 1, "neg": -(2**53 - 1)},
    {"float": 1.5, "list": [0.1, 1e21, 1e-7]},
    [], {}, "plain", 0,
])
def test_fast_path_output_equals_reference_jcs(obj):
    assert canonical_json(obj) == rfc8785.dumps(obj)


def test_integers_beyond_the_json_safe_range_are_refused():
    with pytest.raises(ValueError):
        canonical_json({"n": 2**60})


def test_parse_accepts_canonical_bytes_and_returns_the_value():
    data = canonical_json({"seq": 3, "form": {"金额": 5000}})
    assert parse_canonical(data) == {"seq": 3, "form": {"金额": 5000}}


@pytest.mark.parametrize("data", [
    b'{"a": 1}',  # whitespace
    b'{"b":1,"a":2}',  # key order
    b'{"a":1,"a":2}',  # duplicate key: two readers could see different values
    b'{"a":1.0}',  # number spelling
    b'{"a":1',  # not JSON
    b'\xff\xfe',  # not UTF-8
])
def test_parse_rejects_non_canonical_or_ambiguous_json(data):
    with pytest.raises(VerificationError):
        parse_canonical(data)


def test_sha256_hex_is_lowercase_hex_of_the_bytes():
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert json.loads(canonical_json({"h": sha256_hex(b"")}))["h"].startswith("e3b0c442")


@pytest.mark.parametrize("obj", [
    {"id_card": "110101199003070012", "n": 2**53 - 1},  # long digit runs take the reference path
    {"\U0001f600": 1, "\ue000": 2},  # astral key order (UTF-16) differs from code-point order
    {"ratio": 0.5, "big": 1e21},
])
def test_parse_accepts_canonical_bytes_that_need_the_reference_encoder(obj):
    data = canonical_json(obj)
    assert parse_canonical(data) == obj
    with pytest.raises(VerificationError):
        parse_canonical(data.replace(b":", b": ", 1))
