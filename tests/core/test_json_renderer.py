"""core.renderers.OrjsonRenderer writes what DRF's JSONRenderer writes, byte for byte, for every kind of value the
API renders (a float in exponent form is the one difference: 1e-7 for 1e-07, the same number), and leaves what
orjson cannot do (indentation, integers beyond 64 bits) to DRF."""

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from core.error_codes import ErrorCode
from core.renderers import OrjsonRenderer

VALUES = {
    "text": 'Grüße, 東京 \u2028 \u2029 "quoted" \\ </script>',
    "numbers": [0, -1, 2**63 - 1, 1.5, 0.1, 12345.678, True, False, None],
    "utc": datetime.datetime(2026, 12, 1, 10, 31, 9, 123456, tzinfo=datetime.UTC),
    "naive": datetime.datetime(2026, 12, 1, 10, 31, 9),
    "date": datetime.date(2026, 12, 1),
    "time": datetime.time(10, 31, 9, 500),
    "duration": datetime.timedelta(days=1, seconds=5),
    "decimal": Decimal("12.50"),
    "uuid": uuid.UUID("7f1c1f8e-8a5b-4c3e-9a55-0d6f6f1b2c3d"),
    "lazy": gettext_lazy("This field is required."),
    "code": ErrorCode.INVALID,
    "nested": ReturnDict({"a": [{"b": {"c": []}}], 1: "int key"}, serializer=None),
    "tuple": (1, 2),
    "bytes": b"raw",
}


@pytest.mark.parametrize("key", VALUES)
def test_each_kind_of_value_renders_as_drf_renders_it(key):
    data = {key: VALUES[key]}
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)


def test_a_float_in_exponent_form_is_the_same_number():
    data = {"small": 1e-7, "large": 1e22}
    assert json.loads(OrjsonRenderer().render(data)) == json.loads(JSONRenderer().render(data)) == data


@pytest.mark.parametrize(
    "data", [{"big": 2**64}, [10**30], None], ids=["beyond-64-bits", "huge-in-a-list", "no-content"]
)
def test_what_orjson_declines_goes_to_drf(data):
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)


@pytest.mark.parametrize("accept", ["application/json; indent=4", "application/json; indent=2"])
def test_indented_output_is_drfs(accept):
    data = {"a": [1, {"b": VALUES["utc"]}]}
    rendered = OrjsonRenderer().render(data, accept)
    assert rendered == JSONRenderer().render(data, accept)
    assert b"\n" in rendered


def test_a_type_neither_knows_is_drfs_error():
    with pytest.raises(TypeError):
        OrjsonRenderer().render({"set": object()})
