"""The catalogue through the public API: suppliers, products and variants; reads by customers, writes by staff."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from products.models import Product, ProductStatus, ProductVariant, Supplier
from tests.assertions import PRODUCT_FIELDS, assert_client_error, errors_by_attr
from tests.factories import ProductFactory, SupplierFactory, VariantFactory, make_order

pytestmark = pytest.mark.django_db

SUPPLIERS_URL = "/api/v1/suppliers/"
PRODUCTS_URL = "/api/v1/products/"


def product_url(product_id) -> str:
    return f"{PRODUCTS_URL}{product_id}/"


def variants_url(product_id) -> str:
    return f"{PRODUCTS_URL}{product_id}/variants/"


def variant_url(product_id, variant_id) -> str:
    return f"{PRODUCTS_URL}{product_id}/variants/{variant_id}/"


def product_with_variants(*, variants: int = 1, **fields) -> Product:
    product = ProductFactory(**fields)
    VariantFactory.create_batch(variants, product=product)
    return product


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {product["id"] for product in response.json()["results"]}


def new_product_payload(supplier: Supplier, **overrides):
    payload = {
        "name": "Trail Shoe",
        "description": "Grippy.",
        "supplier_id": str(supplier.pk),
        "status": "active",
        "image_url": "https://img.example.com/shoe.png",
        "currency": "USD",
        "base_price_cents": 8999,
        "variants": [
            {"name": "Red / 42", "sku": "SHOE-R-42", "attributes": {"Color": "Red", "Size": "42"}, "stock_quantity": 5},
            {"name": "Blue / 43", "sku": "SHOE-B-43", "attributes": {"Color": "Blue"}, "price_cents": 9499},
        ],
    }
    payload.update(overrides)
    return payload


# ---- suppliers (staff only) -----------------------------------------------------------------------


def test_staff_creates_supplier(staff_client):
    response = staff_client.post(SUPPLIERS_URL, {"name": "Acme"})

    assert response.status_code == 201, response.content
    supplier = Supplier.objects.get(name="Acme")
    assert response.json() == {"id": str(supplier.pk), "name": "Acme"}


def test_staff_lists_retrieves_and_renames_suppliers(staff_client):
    beta, alpha = SupplierFactory(name="Beta"), SupplierFactory(name="Alpha")

    listing = staff_client.get(SUPPLIERS_URL)
    assert listing.status_code == 200
    assert listing.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [{"id": str(alpha.pk), "name": "Alpha"}, {"id": str(beta.pk), "name": "Beta"}],
    }
    assert staff_client.get(f"{SUPPLIERS_URL}{beta.pk}/").json() == {"id": str(beta.pk), "name": "Beta"}

    renamed = staff_client.patch(f"{SUPPLIERS_URL}{beta.pk}/", {"name": "Gamma"})

    assert renamed.status_code == 200, renamed.content
    assert renamed.json() == {"id": str(beta.pk), "name": "Gamma"}
    beta.refresh_from_db()
    assert beta.name == "Gamma"


def test_supplier_with_taken_name_is_rejected(staff_client):
    SupplierFactory(name="Acme")

    assert errors_by_attr(staff_client.post(SUPPLIERS_URL, {"name": "Acme"}), 400) == {"name": {"unique"}}
    assert Supplier.objects.filter(name="Acme").count() == 1


def test_renaming_supplier_to_a_taken_name_is_rejected(staff_client):
    SupplierFactory(name="Acme")
    other = SupplierFactory(name="Other")

    response = staff_client.patch(f"{SUPPLIERS_URL}{other.pk}/", {"name": "Acme"})

    assert errors_by_attr(response, 400) == {"name": {"unique"}}
    other.refresh_from_db()
    assert other.name == "Other"


@pytest.mark.parametrize(
    ("body", "code"), [({}, "required"), ({"name": ""}, "blank"), ({"name": "x" * 201}, "max_length")]
)
def test_supplier_with_invalid_name_is_rejected(staff_client, body, code):
    assert errors_by_attr(staff_client.post(SUPPLIERS_URL, body), 400) == {"name": {code}}
    assert not Supplier.objects.exists()


@pytest.mark.parametrize("supplier_id", [str(uuid.UUID(int=1)), "not-a-uuid"])
def test_unknown_supplier_is_404(staff_client, supplier_id):
    response = staff_client.get(f"{SUPPLIERS_URL}{supplier_id}/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "detail", "body"),
    [("get", False, None), ("post", False, {"name": "New"}), ("get", True, None), ("patch", True, {"name": "New"})],
)
@pytest.mark.parametrize(
    ("client_fixture", "status", "code"),
    [("customer_client", 403, "permission_denied"), ("anon_client", 401, "not_authenticated")],
)
def test_suppliers_are_staff_only(request, client_fixture, status, code, method, detail, body):
    supplier = SupplierFactory(name="Acme")
    client = request.getfixturevalue(client_fixture)
    url = f"{SUPPLIERS_URL}{supplier.pk}/" if detail else SUPPLIERS_URL

    response = getattr(client, method)(url, body)

    assert_client_error(response, status, code)
    assert list(Supplier.objects.values_list("name", flat=True)) == ["Acme"]


# ---- products: customer reads ----------------------------------------------------------------------


def test_customers_see_only_active_products(customer_client, staff_client):
    products = {status: product_with_variants(status=status) for status in ProductStatus.values}

    assert ids(customer_client.get(PRODUCTS_URL)) == {str(products["active"].pk)}
    assert ids(staff_client.get(PRODUCTS_URL)) == {str(product.pk) for product in products.values()}


@pytest.mark.parametrize("status", ["draft", "discontinued", "deleted"])
def test_non_active_product_detail_is_404_for_customers_but_visible_to_staff(customer_client, staff_client, status):
    product = product_with_variants(status=status)

    assert_client_error(customer_client.get(product_url(product.pk)), 404, "not_found")
    staff_view = staff_client.get(product_url(product.pk))
    assert staff_view.status_code == 200
    assert staff_view.json()["status"] == status


def test_product_detail_has_the_contract_shape(customer_client):
    supplier = SupplierFactory(name="Acme")
    product = ProductFactory(supplier=supplier, name="Mug", base_price_cents=1250, currency="EUR")
    first = VariantFactory(product=product, name="Red", sku="MUG-R", attributes={"Color": "Red"}, stock_quantity=3)
    second = VariantFactory(product=product, name="Blue", sku="MUG-B", attributes={}, price_cents=1300)

    response = customer_client.get(product_url(product.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    assert body["id"] == str(product.pk)
    assert body["supplier"] == {"id": str(supplier.pk), "name": "Acme"}
    assert (body["name"], body["status"], body["currency"], body["base_price_cents"]) == ("Mug", "active", "EUR", 1250)
    assert body["image_url"] == product.image_url
    assert body["description"] == product.description
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert body["variants"] == [
        {
            "id": str(first.pk),
            "name": "Red",
            "sku": "MUG-R",
            "attributes": {"Color": "Red"},
            "price_cents": 1250,
            "stock_quantity": 3,
        },
        {
            "id": str(second.pk),
            "name": "Blue",
            "sku": "MUG-B",
            "attributes": {},
            "price_cents": 1300,
            "stock_quantity": 100,
        },
    ]


@pytest.mark.parametrize("product_id", [str(uuid.UUID(int=7)), "not-a-uuid"])
def test_unknown_product_is_404(customer_client, product_id):
    response = customer_client.get(product_url(product_id))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_anonymous_cannot_read_the_catalogue(anon_client):
    product = product_with_variants()

    assert_client_error(anon_client.get(PRODUCTS_URL), 401, "not_authenticated")
    assert_client_error(anon_client.get(product_url(product.pk)), 401, "not_authenticated")


@pytest.mark.parametrize("search", ["runner", "RUNNER", "ail Run"])
def test_search_by_name_substring(customer_client, search):
    shoe = product_with_variants(name="Trail Runner")
    product_with_variants(name="Coffee Mug")

    assert ids(customer_client.get(PRODUCTS_URL, {"search": search})) == {str(shoe.pk)}


@pytest.mark.parametrize("search", ["TR-RUN-42", "tr-run-42"])
def test_search_by_sku(customer_client, search):
    shoe = ProductFactory(name="Trail Runner")
    VariantFactory(product=shoe, sku="TR-RUN-41")
    VariantFactory(product=shoe, sku="TR-RUN-42")
    product_with_variants(name="Coffee Mug")

    response = customer_client.get(PRODUCTS_URL, {"search": search})

    assert ids(response) == {str(shoe.pk)}
    assert response.json()["count"] == 1  # one product, however many of its variants match


@pytest.mark.parametrize("client_fixture", ["customer_client", "staff_client"])
def test_search_with_a_null_character_is_400_not_500(request, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = client.get(PRODUCTS_URL, {"search": "run\x00ner"})

    assert errors_by_attr(response, 400) == {"search": {"null_characters_not_allowed"}}


def test_search_ignores_surrounding_whitespace(customer_client):
    shoe = product_with_variants(name="Trail Runner")

    assert ids(customer_client.get(PRODUCTS_URL, {"search": "  runner "})) == {str(shoe.pk)}


def test_search_does_not_reveal_non_active_products_to_customers(customer_client, staff_client):
    draft = ProductFactory(name="Secret Prototype", status=ProductStatus.DRAFT)
    VariantFactory(product=draft, sku="PROTO-1")

    assert ids(customer_client.get(PRODUCTS_URL, {"search": "Prototype"})) == set()
    assert ids(customer_client.get(PRODUCTS_URL, {"search": "PROTO-1"})) == set()
    assert ids(staff_client.get(PRODUCTS_URL, {"search": "PROTO-1"})) == {str(draft.pk)}


def test_staff_filters_by_status(staff_client):
    draft = product_with_variants(status=ProductStatus.DRAFT)
    active = product_with_variants(status=ProductStatus.ACTIVE)
    product_with_variants(status=ProductStatus.DISCONTINUED)

    assert ids(staff_client.get(PRODUCTS_URL, {"status": "draft"})) == {str(draft.pk)}
    assert ids(staff_client.get(PRODUCTS_URL, {"status": "draft,active"})) == {str(draft.pk), str(active.pk)}
    assert ids(staff_client.get(PRODUCTS_URL, {"status": "draft,"})) == {str(draft.pk)}


def test_staff_unknown_status_filter_is_400(staff_client):
    response = staff_client.get(PRODUCTS_URL, {"status": "draft,bogus"})

    assert errors_by_attr(response, 400) == {"status": {"invalid"}}


def test_customer_status_filter_cannot_reveal_drafts(customer_client):
    product_with_variants(status=ProductStatus.DRAFT)
    active = product_with_variants(status=ProductStatus.ACTIVE)

    assert ids(customer_client.get(PRODUCTS_URL, {"status": "draft"})) == {str(active.pk)}


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PRODUCTS_URL, {"limit": 100})
    assert response.status_code == 200
    return len(queries), response.json()


def test_product_list_query_count_does_not_grow_with_the_page(customer_client, django_assert_max_num_queries):
    for _ in range(5):
        product_with_variants(variants=2)
    with django_assert_max_num_queries(4):
        small_count, small = _list_queries(customer_client)
    assert small["count"] == 5

    for _ in range(45):
        product_with_variants(variants=2)
    with django_assert_max_num_queries(4):
        large_count, large = _list_queries(customer_client)

    assert large["count"] == 50
    assert len(large["results"]) == 50
    assert all(len(product["variants"]) == 2 for product in large["results"])
    assert large_count == small_count, (small_count, large_count)


def test_product_list_is_paginated_and_capped_at_100(staff_client):
    supplier = SupplierFactory()
    Product.objects.bulk_create(
        [Product(supplier=supplier, name=f"P{i:03d}", currency="USD", base_price_cents=100) for i in range(101)]
    )

    default_page = staff_client.get(PRODUCTS_URL).json()
    capped = staff_client.get(PRODUCTS_URL, {"limit": 1000}).json()

    assert set(default_page) == {"count", "next", "previous", "results"}
    assert default_page["count"] == 101 and len(default_page["results"]) == 20
    assert len(capped["results"]) == 100 and capped["next"] is not None


# ---- products: staff writes -----------------------------------------------------------------------


def test_staff_creates_product_with_variants(staff_client):
    supplier = SupplierFactory(name="Acme")

    response = staff_client.post(PRODUCTS_URL, new_product_payload(supplier))

    assert response.status_code == 201, response.content
    body = response.json()
    product = Product.objects.get(name="Trail Shoe")
    red = ProductVariant.objects.get(product=product, sku="SHOE-R-42")
    blue = ProductVariant.objects.get(product=product, sku="SHOE-B-43")
    assert set(body) == PRODUCT_FIELDS
    assert body["id"] == str(product.pk)
    assert body["supplier"] == {"id": str(supplier.pk), "name": "Acme"}
    assert {k: body[k] for k in ("name", "description", "status", "image_url", "currency", "base_price_cents")} == {
        "name": "Trail Shoe",
        "description": "Grippy.",
        "status": "active",
        "image_url": "https://img.example.com/shoe.png",
        "currency": "USD",
        "base_price_cents": 8999,
    }
    assert body["variants"] == [
        {
            "id": str(red.pk),
            "name": "Red / 42",
            "sku": "SHOE-R-42",
            "attributes": {"Color": "Red", "Size": "42"},
            "price_cents": 8999,  # defaults to the base price
            "stock_quantity": 5,
        },
        {
            "id": str(blue.pk),
            "name": "Blue / 43",
            "sku": "SHOE-B-43",
            "attributes": {"Color": "Blue"},
            "price_cents": 9499,
            "stock_quantity": 0,
        },
    ]
    assert (red.price_cents, red.stock_quantity, blue.price_cents) == (8999, 5, 9499)


def test_created_product_defaults_to_draft(staff_client, customer_client):
    payload = new_product_payload(SupplierFactory())
    del payload["status"]

    response = staff_client.post(PRODUCTS_URL, payload)

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft"
    assert customer_client.get(product_url(response.json()["id"])).status_code == 404


@pytest.mark.parametrize(
    ("variants", "code"),
    [([], "min_length"), (None, "required"), ("SKU-1", "not_a_list"), ({"name": "x", "sku": "y"}, "not_a_list")],
)
def test_product_needs_at_least_one_variant(staff_client, variants, code):
    payload = new_product_payload(SupplierFactory())
    if variants is None:
        del payload["variants"]
    else:
        payload["variants"] = variants

    assert errors_by_attr(staff_client.post(PRODUCTS_URL, payload), 400) == {"variants": {code}}
    assert not Product.objects.exists()


def test_product_with_more_than_100_variants_is_rejected(staff_client):
    payload = new_product_payload(SupplierFactory())
    payload["variants"] = [{"name": f"V{i}", "sku": f"MANY-{i}"} for i in range(101)]

    assert errors_by_attr(staff_client.post(PRODUCTS_URL, payload), 400) == {"variants": {"max_length"}}
    assert not Product.objects.exists()


def test_duplicate_sku_within_the_request_is_rejected(staff_client):
    payload = new_product_payload(SupplierFactory())
    payload["variants"][1]["sku"] = payload["variants"][0]["sku"]

    response = staff_client.post(PRODUCTS_URL, payload)

    assert errors_by_attr(response, 400) == {"variants.1.sku": {"unique"}}
    assert not Product.objects.exists()


def test_sku_already_used_by_another_product_is_rejected(staff_client):
    VariantFactory(sku="SHOE-B-43")

    response = staff_client.post(PRODUCTS_URL, new_product_payload(SupplierFactory()))

    assert errors_by_attr(response, 400) == {"variants.1.sku": {"unique"}}
    assert not Product.objects.filter(name="Trail Shoe").exists()
    assert ProductVariant.objects.filter(sku="SHOE-B-43").count() == 1


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"supplier_id": str(uuid.UUID(int=5))}, "supplier_id"),
        ({"supplier_id": "not-a-uuid"}, "supplier_id"),
        ({"currency": "usd"}, "currency"),
        ({"currency": "US"}, "currency"),
        ({"base_price_cents": -1}, "base_price_cents"),
        ({"base_price_cents": 12.5}, "base_price_cents"),
        ({"status": "bogus"}, "status"),
        ({"image_url": "not a url"}, "image_url"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
    ],
)
def test_create_product_with_invalid_field_is_rejected(staff_client, change, attr):
    response = staff_client.post(PRODUCTS_URL, new_product_payload(SupplierFactory(), **change))

    assert set(errors_by_attr(response, 400)) == {attr}
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("variant_change", "attr"),
    [
        ({"stock_quantity": -1}, "variants.0.stock_quantity"),
        ({"price_cents": -1}, "variants.0.price_cents"),
        ({"sku": ""}, "variants.0.sku"),
        ({"sku": "s" * 65}, "variants.0.sku"),
        ({"name": ""}, "variants.0.name"),
        ({"attributes": {"Color": {"nested": "object"}}}, "variants.0.attributes"),
        ({"attributes": {"Size": 42}}, "variants.0.attributes"),
        ({"attributes": ["Red"]}, "variants.0.attributes"),
        ({"attributes": "Red"}, "variants.0.attributes"),
        ({"attributes": {f"k{i}": "v" for i in range(21)}}, "variants.0.attributes"),
        ({"attributes": {"": "empty name"}}, "variants.0.attributes"),
        ({"attributes": {"k" * 51: "v"}}, "variants.0.attributes"),
        ({"attributes": {"Color": "v" * 201}}, "variants.0.attributes"),
        ({"attributes": {"Color": "Re\u0000d"}}, "variants.0.attributes"),
        ({"attributes": {"Co\u0000lor": "Red"}}, "variants.0.attributes"),
    ],
)
def test_create_product_with_invalid_variant_is_rejected(staff_client, variant_change, attr):
    payload = new_product_payload(SupplierFactory())
    payload["variants"][0].update(variant_change)

    response = staff_client.post(PRODUCTS_URL, payload)

    assert set(errors_by_attr(response, 400)) == {attr}
    assert not Product.objects.exists()


def test_create_product_reports_every_problem_at_once(staff_client):
    payload = new_product_payload(SupplierFactory(), currency="usd", base_price_cents=-5)
    payload["variants"][1]["stock_quantity"] = -1
    del payload["name"]

    errors = errors_by_attr(staff_client.post(PRODUCTS_URL, payload), 400)

    assert set(errors) == {"name", "currency", "base_price_cents", "variants.1.stock_quantity"}


def test_staff_patches_product(staff_client):
    product = product_with_variants(name="Old", status=ProductStatus.DRAFT, base_price_cents=1000)
    new_supplier = SupplierFactory(name="New Supplier")
    before = staff_client.get(product_url(product.pk)).json()

    response = staff_client.patch(
        product_url(product.pk),
        {"name": "New", "status": "active", "base_price_cents": 1500, "supplier_id": str(new_supplier.pk)},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    assert (body["name"], body["status"], body["base_price_cents"]) == ("New", "active", 1500)
    assert body["supplier"] == {"id": str(new_supplier.pk), "name": "New Supplier"}
    assert body["variants"] == before["variants"]  # a variant's own price is not rewritten
    assert body["updated_at"] > before["updated_at"]
    assert body["created_at"] == before["created_at"]
    product.refresh_from_db()
    assert (product.name, product.status, product.base_price_cents, product.supplier_id) == (
        "New",
        "active",
        1500,
        new_supplier.pk,
    )


@pytest.mark.parametrize("query", ["?status=draft", "?search=no-such-product"])
def test_list_filters_in_the_query_string_do_not_affect_a_patch(staff_client, query):
    product = product_with_variants(status=ProductStatus.DRAFT)

    response = staff_client.patch(f"{product_url(product.pk)}{query}", {"status": "active"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    product.refresh_from_db()
    assert product.status == ProductStatus.ACTIVE


def test_patch_product_with_invalid_values_changes_nothing(staff_client):
    product = product_with_variants(name="Keep", currency="USD")

    response = staff_client.patch(product_url(product.pk), {"name": "", "currency": "dollars", "status": "gone"})

    assert set(errors_by_attr(response, 400)) == {"name", "currency", "status"}
    product.refresh_from_db()
    assert (product.name, product.currency) == ("Keep", "USD")


def test_staff_deletes_product_softly(staff_client, customer_client):
    product = product_with_variants()
    variant_id = product.variants.get().pk
    assert customer_client.get(product_url(product.pk)).status_code == 200

    response = staff_client.delete(product_url(product.pk))

    assert response.status_code == 204
    assert response.content == b""
    product.refresh_from_db()
    assert product.status == ProductStatus.DELETED
    assert ProductVariant.objects.filter(pk=variant_id).exists()
    assert_client_error(customer_client.get(product_url(product.pk)), 404, "not_found")
    assert ids(customer_client.get(PRODUCTS_URL)) == set()
    assert staff_client.get(product_url(product.pk)).json()["status"] == "deleted"


def test_deleted_product_cannot_be_ordered(customer_client, staff_client):
    product = product_with_variants()
    assert staff_client.delete(product_url(product.pk)).status_code == 204

    response = customer_client.post(
        "/api/v1/orders/",
        {
            "items": [{"product_id": str(product.pk), "quantity": 1}],
            "shipping_address": {
                "recipient_name": "John Doe",
                "street_address_1": "1 Main St",
                "city": "Springfield",
                "zip_code": "12345",
                "country": "US",
            },
            "payment_method": "credit_card",
        },
    )

    assert response.status_code == 400, response.content
    assert product.variants.get().stock_quantity == 100


# ---- variants -------------------------------------------------------------------------------------


def test_staff_adds_variant(staff_client, customer_client):
    product = product_with_variants(base_price_cents=2500)

    response = staff_client.post(
        variants_url(product.pk), {"name": "Green", "sku": "NEW-GREEN", "attributes": {"Color": "Green"}}
    )

    assert response.status_code == 201, response.content
    variant = ProductVariant.objects.get(sku="NEW-GREEN")
    assert variant.product_id == product.pk
    assert response.json() == {
        "id": str(variant.pk),
        "name": "Green",
        "sku": "NEW-GREEN",
        "attributes": {"Color": "Green"},
        "price_cents": 2500,
        "stock_quantity": 0,
    }
    listed = customer_client.get(product_url(product.pk)).json()["variants"]
    assert [v["sku"] for v in listed][-1] == "NEW-GREEN" and len(listed) == 2


def test_adding_variant_with_taken_sku_is_rejected(staff_client):
    product = product_with_variants()
    VariantFactory(sku="TAKEN")

    response = staff_client.post(variants_url(product.pk), {"name": "Dup", "sku": "TAKEN"})

    assert errors_by_attr(response, 400) == {"sku": {"unique"}}
    assert product.variants.count() == 1


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"name": "X", "sku": "X-1", "stock_quantity": -3}, "stock_quantity"),
        ({"name": "X", "sku": "X-1", "price_cents": -1}, "price_cents"),
        ({"name": "X", "sku": "X-1", "attributes": {"a": ["b"]}}, "attributes"),
        ({"name": "X"}, "sku"),
    ],
)
def test_adding_invalid_variant_is_rejected(staff_client, body, attr):
    product = product_with_variants()

    assert set(errors_by_attr(staff_client.post(variants_url(product.pk), body), 400)) == {attr}
    assert product.variants.count() == 1


def test_adding_variant_to_unknown_product_is_404(staff_client):
    response = staff_client.post(variants_url(uuid.uuid4()), {"name": "X", "sku": "X-1"})

    assert_client_error(response, 404, "not_found")
    assert not ProductVariant.objects.filter(sku="X-1").exists()


def test_staff_patches_variant_stock_and_price(staff_client):
    product = product_with_variants()
    variant = product.variants.get()

    response = staff_client.patch(variant_url(product.pk, variant.pk), {"stock_quantity": 7, "price_cents": 4321})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(variant.pk),
        "name": variant.name,
        "sku": variant.sku,
        "attributes": variant.attributes,
        "price_cents": 4321,
        "stock_quantity": 7,
    }
    variant.refresh_from_db()
    assert (variant.stock_quantity, variant.price_cents) == (7, 4321)


def test_staff_patches_variant_sku_and_attributes(staff_client):
    product = product_with_variants()
    variant = product.variants.get()

    response = staff_client.patch(
        variant_url(product.pk, variant.pk), {"sku": "RENAMED-1", "attributes": {"Size": "XL"}, "name": "XL"}
    )

    assert response.status_code == 200, response.content
    variant.refresh_from_db()
    assert (variant.sku, variant.attributes, variant.name) == ("RENAMED-1", {"Size": "XL"}, "XL")


def test_patching_variant_to_its_own_sku_is_allowed(staff_client):
    product = product_with_variants()
    variant = product.variants.get()

    response = staff_client.patch(variant_url(product.pk, variant.pk), {"sku": variant.sku, "stock_quantity": 1})

    assert response.status_code == 200, response.content


def test_patching_variant_to_a_taken_sku_is_rejected(staff_client):
    product = product_with_variants()
    variant = product.variants.get()
    VariantFactory(sku="TAKEN")
    sku = variant.sku

    response = staff_client.patch(variant_url(product.pk, variant.pk), {"sku": "TAKEN"})

    assert errors_by_attr(response, 400) == {"sku": {"unique"}}
    variant.refresh_from_db()
    assert variant.sku == sku


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"stock_quantity": -1}, "stock_quantity"),
        ({"price_cents": -1}, "price_cents"),
        ({"stock_quantity": "many"}, "stock_quantity"),
        ({"attributes": {"Color": {"r": 255}}}, "attributes"),
        ({"attributes": {f"k{i}": "v" for i in range(21)}}, "attributes"),
        ({"attributes": None}, "attributes"),
        ({"attributes": {"Color": "\u0000"}}, "attributes"),
        ({"name": ""}, "name"),
    ],
)
def test_patching_variant_with_invalid_values_changes_nothing(staff_client, body, attr):
    product = product_with_variants()
    variant = product.variants.get()
    before = (variant.stock_quantity, variant.price_cents, variant.attributes, variant.name)

    response = staff_client.patch(variant_url(product.pk, variant.pk), body)

    assert set(errors_by_attr(response, 400)) == {attr}
    variant.refresh_from_db()
    assert (variant.stock_quantity, variant.price_cents, variant.attributes, variant.name) == before


def test_variant_of_another_product_is_404(staff_client):
    product, other = product_with_variants(), product_with_variants()
    foreign = other.variants.get()

    response = staff_client.patch(variant_url(product.pk, foreign.pk), {"stock_quantity": 0})

    assert_client_error(response, 404, "not_found")
    foreign.refresh_from_db()
    assert foreign.stock_quantity == 100


@pytest.mark.parametrize("variant_id", [str(uuid.UUID(int=3)), "not-a-uuid"])
def test_unknown_variant_is_404(staff_client, variant_id):
    product = product_with_variants()

    response = staff_client.patch(variant_url(product.pk, variant_id), {"stock_quantity": 0})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


# ---- staff-only writes ------------------------------------------------------------------------------


def _staff_write_attempts(product, variant, supplier):
    return [
        ("post", PRODUCTS_URL, new_product_payload(supplier, name="Sneaky")),
        ("patch", product_url(product.pk), {"name": "Sneaky"}),
        ("delete", product_url(product.pk), None),
        ("post", variants_url(product.pk), {"name": "Sneaky", "sku": "SNEAKY"}),
        ("patch", variant_url(product.pk, variant.pk), {"stock_quantity": 0, "price_cents": 0}),
    ]


@pytest.mark.parametrize("attempt", range(5))
@pytest.mark.parametrize(
    ("client_fixture", "status", "code"),
    [("customer_client", 403, "permission_denied"), ("anon_client", 401, "not_authenticated")],
)
def test_catalogue_writes_are_staff_only(request, client_fixture, status, code, attempt):
    product = product_with_variants(name="Original")
    variant = product.variants.get()
    client = request.getfixturevalue(client_fixture)
    method, url, body = _staff_write_attempts(product, variant, SupplierFactory())[attempt]

    assert_client_error(getattr(client, method)(url, body), status, code)

    product.refresh_from_db()
    variant.refresh_from_db()
    assert (product.name, product.status) == ("Original", "active")
    assert (variant.stock_quantity, variant.price_cents) == (100, product.base_price_cents)
    assert not Product.objects.filter(name="Sneaky").exists()
    assert not ProductVariant.objects.filter(sku="SNEAKY").exists()


# ---- catalogue edits never change existing orders ---------------------------------------------------------


def test_editing_and_deleting_catalogue_never_changes_an_existing_order(staff_client):
    supplier = SupplierFactory(name="Acme")
    product = ProductFactory(supplier=supplier, name="Original Name", base_price_cents=2000)
    variant = VariantFactory(product=product, name="Red / L", sku="ORIG-SKU", attributes={"Color": "Red"})
    order = make_order(variants=[variant], quantity=2)
    order_url = f"/api/v1/orders/{order.pk}/"
    before = staff_client.get(order_url)
    assert before.status_code == 200
    item = before.json()["items"][0]
    assert item["product_snapshot"] == {
        "product_id": str(product.pk),
        "variant_id": str(variant.pk),
        "supplier_id": str(supplier.pk),
        "supplier_name": "Acme",
        "product_name": "Original Name",
        "variant_name": "Red / L",
        "variant_attributes": {"Color": "Red"},
        "sku": "ORIG-SKU",
        "image_url": product.image_url,
    }
    assert (item["unit_price_cents"], item["total_cents"]) == (2000, 4000)

    edits = [
        staff_client.patch(product_url(product.pk), {"name": "Renamed", "base_price_cents": 9999, "image_url": ""}),
        staff_client.patch(
            variant_url(product.pk, variant.pk),
            {"price_cents": 5555, "name": "Blue / S", "sku": "NEW-SKU", "attributes": {"Color": "Blue"}},
        ),
        staff_client.patch(f"{SUPPLIERS_URL}{supplier.pk}/", {"name": "Acme Renamed"}),
        staff_client.delete(product_url(product.pk)),
    ]
    assert [edit.status_code for edit in edits] == [200, 200, 200, 204]

    after = staff_client.get(order_url)
    assert after.status_code == 200
    assert after.json() == before.json()


@pytest.mark.parametrize(
    ("overrides", "attr"),
    [
        ({"base_price_cents": "8999"}, "base_price_cents"),
        ({"base_price_cents": 8999.0}, "base_price_cents"),
        ({"variants": [{"name": "One", "sku": "SKU-STR-1", "price_cents": "100"}]}, "variants.0.price_cents"),
        ({"variants": [{"name": "One", "sku": "SKU-STR-1", "stock_quantity": 5.0}]}, "variants.0.stock_quantity"),
    ],
)
def test_money_and_stock_must_be_json_integers(staff_client, overrides, attr):
    response = staff_client.post(PRODUCTS_URL, new_product_payload(SupplierFactory(), **overrides), format="json")
    assert errors_by_attr(response, 400) == {attr: {"invalid"}}
    assert not Product.objects.exists()


def test_a_variant_patch_takes_stock_only_as_a_json_integer(staff_client):
    product = product_with_variants()
    variant = product.variants.get()
    response = staff_client.patch(variant_url(product.pk, variant.pk), {"stock_quantity": "7"}, format="json")
    assert errors_by_attr(response, 400) == {"stock_quantity": {"invalid"}}
    variant.refresh_from_db()
    assert variant.stock_quantity != 7
