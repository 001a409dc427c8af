"""core.serializers.LeanFieldCopiesMixin: serializer instances get shallow copies of their leaf fields instead of
DRF's deep copies. Each instance must still own its fields, and one instance's validation must not reach another."""

from orders.api.serializers import OrderCreateSerializer
from tests.factories import SHIPPING_ADDRESS

BODY = {
    "items": [{"product_id": "7f1c1f8e-8a5b-4c3e-9a55-0d6f6f1b2c3d", "quantity": 2}],
    "shipping_address": SHIPPING_ADDRESS,
    "payment_method": "paypal",
}


def test_each_instance_owns_its_fields_bound_to_itself():
    first, second = OrderCreateSerializer(), OrderCreateSerializer()

    for name in ("notes", "payment_method", "items", "shipping_address"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second
    first_city = first.fields["shipping_address"].fields["city"]
    assert first_city is not second.fields["shipping_address"].fields["city"]
    assert first_city.parent is first.fields["shipping_address"]
    assert first_city.root is first


def test_a_refused_body_leaves_the_next_instance_untouched():
    refused = OrderCreateSerializer(data={**BODY, "notes": 5, "shipping_address": {**SHIPPING_ADDRESS, "city": 1}})
    assert not refused.is_valid()
    assert set(refused.errors) == {"notes", "shipping_address"}

    accepted = OrderCreateSerializer(data=BODY)
    assert accepted.is_valid(), accepted.errors
    assert accepted.validated_data["notes"] == ""
    assert accepted.validated_data["shipping_address"]["city"] == SHIPPING_ADDRESS["city"]
    assert accepted.validated_data["items"][0]["quantity"] == 2
