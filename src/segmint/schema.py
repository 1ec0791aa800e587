"""The canonical workspace tables, their keys, and the schema version.

``docs/data-model.md`` explains every table and the definitions built on them; a test checks
that each table and column here is documented there.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

SCHEMA_VERSION = 3

#: The table ``segmint refresh`` writes: one row per customer, one column per feature.
FEATURES_TABLE = "customer_features"

MONEY = dt.Decimal(18, 2)
PRICE = dt.Decimal(18, 4)

TABLES: dict[str, ibis.Schema] = {
    "customers": ibis.schema(
        {
            "customer_id": "string",
            "email": "string",
            "phone": "string",
            "first_name": "string",
            "last_name": "string",
            "company": "string",
            "address1": "string",
            "city": "string",
            "region": "string",
            "country": "string",
            "zip": "string",
            "email_consent": "string",
            "sms_consent": "string",
            "tags": "array<string>",
            "note": "string",
            "gender": "string",
            "birth_year": "int32",
            "attributes": "string",
            "reported_total_spent": MONEY,
            "reported_total_orders": "int64",
            "first_seen_at": "timestamp",
            "updated_at": "timestamp",
            "tags_as_of": "timestamp",
            "first_import_id": "int64",
        }
    ),
    "orders": ibis.schema(
        {
            "order_id": "string",
            "order_number": "string",
            "customer_id": "string",
            "source": "string",
            "placed_at": "timestamp",
            "placed_date": "date",
            "status": "string",
            "financial_status": "string",
            "fulfillment_status": "string",
            "currency": "string",
            "subtotal": MONEY,
            "shipping": MONEY,
            "taxes": MONEY,
            "total": MONEY,
            "product_sales": MONEY,
            "discount_code": "string",
            "discount_amount": MONEY,
            "refunded_amount": MONEY,
            "channel": "string",
            "source_name": "string",
            "billing_city": "string",
            "billing_region": "string",
            "billing_country": "string",
            "billing_zip": "string",
            "shipping_city": "string",
            "shipping_region": "string",
            "shipping_country": "string",
            "shipping_zip": "string",
            "cancelled_at": "timestamp",
            "tags": "array<string>",
            "import_id": "int64",
        }
    ),
    "order_lines": ibis.schema(
        {
            "order_id": "string",
            "line_number": "int32",
            "line_kind": "string",
            "sku": "string",
            "product_name": "string",
            "quantity": "int64",
            "unit_price": PRICE,
            "compare_at_price": PRICE,
            "line_discount": MONEY,
            "amount": MONEY,
            "vendor": "string",
            "import_id": "int64",
        }
    ),
    "refunds": ibis.schema(
        {
            "refund_id": "string",
            "order_id": "string",
            "customer_id": "string",
            "refunded_at": "timestamp",
            "refunded_date": "date",
            "amount": MONEY,
            "product_amount": MONEY,
            "source": "string",
            "import_id": "int64",
            "order_date": "date",
        }
    ),
    "events": ibis.schema(
        {
            "event_id": "string",
            "customer_id": "string",
            "event_type": "string",
            "event_name": "string",
            "occurred_at": "timestamp",
            "occurred_date": "date",
            "order_id": "string",
            "product_id": "string",
            "product_name": "string",
            "category": "string",
            "value": MONEY,
            "device": "string",
            "channel": "string",
            "campaign": "string",
            "source": "string",
            "import_id": "int64",
        }
    ),
    "products": ibis.schema(
        {
            "product_key": "string",
            "handle": "string",
            "sku": "string",
            "title": "string",
            "variant_title": "string",
            "vendor": "string",
            "category": "string",
            "product_type": "string",
            "tags": "array<string>",
            "price": PRICE,
            "compare_at_price": PRICE,
            "import_id": "int64",
        }
    ),
    "identities": ibis.schema(
        {
            "identity": "string",
            "kind": "string",
            "customer_id": "string",
            "first_seen_at": "timestamp",
            "import_id": "int64",
        }
    ),
    "merges": ibis.schema(
        {
            "merged_id": "string",
            "surviving_id": "string",
            "via_identity": "string",
            "merged_at": "timestamp",
            "import_id": "int64",
        }
    ),
    "imports": ibis.schema(
        {
            "import_id": "int64",
            "file": "string",
            "format": "string",
            "checksum": "string",
            "rows_read": "int64",
            "rows_loaded": "int64",
            "rows_rejected": "int64",
            "duplicate_rows": "int64",
            "customers_created": "int64",
            "customers_merged": "int64",
            "orders_new": "int64",
            "orders_updated": "int64",
            "started_at": "timestamp",
            "finished_at": "timestamp",
        }
    ),
    "rejects": ibis.schema(
        {
            "import_id": "int64",
            "file": "string",
            "row_number": "int64",
            "column": "string",
            "raw_value": "string",
            "reason": "string",
        }
    ),
    "refreshes": ibis.schema(
        {
            "refresh_id": "int64",
            "as_of": "date",
            "customers": "int64",
            "rfm_cut_points": "string",
            "store_statistics": "string",
            "configuration": "string",
            "started_at": "timestamp",
            "finished_at": "timestamp",
        }
    ),
    "segment_members": ibis.schema(
        {"refresh_id": "int64", "customer_id": "string", "segment": "string", "family": "string"}
    ),
    "segment_intervals": ibis.schema(
        {
            "customer_id": "string",
            "segment": "string",
            "family": "string",
            "entered": "date",
            "exited": "date",
        }
    ),
    "history_observations": ibis.schema(
        {
            "as_of": "date",
            "refresh_id": "int64",
            "customers": "int64",
            "recorded_at": "timestamp",
        }
    ),
    "segment_versions": ibis.schema(
        {
            "refresh_id": "int64",
            "segment": "string",
            "version": "int64",
            "family": "string",
            "priority": "int64",
            "origin": "string",
            "name": "string",
            "definition": "string",
            "rule": "string",
            "description": "string",
            "action": "string",
            "customers": "int64",
            "customers_before_exclusions": "int64",
        }
    ),
    "predictions": ibis.schema(
        {
            "run_id": "int64",
            "as_of": "date",
            "customer_id": "string",
            "frequency": "int64",
            "recency": "float64",
            "T": "float64",
            "monetary_value": "float64",
            "p_alive": "float64",
            "expected_orders_90d": "float64",
            "predicted_spend_per_order": "float64",
            "predicted_clv_12m": "float64",
            "next_order_date": "date",
            "churn_risk": "string",
        }
    ),
    "cluster_members": ibis.schema(
        {"run_id": "int64", "as_of": "date", "customer_id": "string", "cluster": "string"}
    ),
    "model_runs": ibis.schema(
        {
            "run_id": "int64",
            "kind": "string",
            "as_of": "date",
            "calibration_end": "date",
            "holdout_end": "date",
            "time_unit": "string",
            "models": "string",
            "data_summary": "string",
            "warnings": "string",
            "metrics": "string",
            "calibration": "string",
            "started_at": "timestamp",
            "finished_at": "timestamp",
        }
    ),
    "suppressions": ibis.schema(
        {
            "kind": "string",
            "value_hash": "string",
            "reason": "string",
            "source": "string",
            "added_at": "timestamp",
        }
    ),
    "exports": ibis.schema(
        {
            "export_id": "int64",
            "segment": "string",
            "destination": "string",
            "channel": "string",
            "refresh_id": "int64",
            "segment_version": "int64",
            "kind": "string",
            "plan": "string",
            "file": "string",
            "checksum": "string",
            "members": "int64",
            "no_consent": "int64",
            "suppressed": "int64",
            "excluded": "int64",
            "no_identifier": "int64",
            "exported": "int64",
            "options": "string",
            "warnings": "string",
            "created_at": "timestamp",
        }
    ),
    "export_members": ibis.schema({"export_id": "int64", "customer_id": "string"}),
    "api_keys": ibis.schema(
        {
            "key_id": "string",
            "key_hash": "string",
            "scope": "string",
            "name": "string",
            "routes": "string",
            "origins": "string",
            "rate_limit": "int64",
            "created_at": "timestamp",
            "revoked_at": "timestamp",
        }
    ),
    "webhooks": ibis.schema(
        {
            "webhook_id": "int64",
            "url": "string",
            "segments": "string",
            "changes": "string",
            "secret": "string",
            "created_at": "timestamp",
            "removed_at": "timestamp",
        }
    ),
    "webhook_deliveries": ibis.schema(
        {
            "delivery_id": "string",
            "webhook_id": "int64",
            "customer_id": "string",
            "segment": "string",
            "change": "string",
            "changed_at": "timestamp",
            "body": "string",
            "status": "string",
            "attempts": "int64",
            "next_attempt_at": "timestamp",
            "last_status_code": "int64",
            "last_error": "string",
            "created_at": "timestamp",
            "delivered_at": "timestamp",
        }
    ),
    "webhook_attempts": ibis.schema(
        {
            "delivery_id": "string",
            "webhook_id": "int64",
            "attempt": "int64",
            "attempted_at": "timestamp",
            "status_code": "int64",
            "error": "string",
            "duration_ms": "float64",
        }
    ),
    "campaigns": ibis.schema(
        {
            "campaign_id": "int64",
            "name": "string",
            "segment": "string",
            "channel": "string",
            "variants": "string",
            "holdout": "float64",
            "salt": "string",
            "refresh_id": "int64",
            "segment_version": "int64",
            "send_date": "date",
            "window_days": "int64",
            "exclude": "string",
            "eligible": "int64",
            "funnel": "string",
            "files": "string",
            "created_at": "timestamp",
        }
    ),
    "campaign_assignments": ibis.schema(
        {"campaign_id": "int64", "customer_id": "string", "arm": "string", "bucket": "int64"}
    ),
    "campaign_results": ibis.schema(
        {
            "campaign_id": "int64",
            "customer_id": "string",
            "arm": "string",
            "sent": "boolean",
            "opened": "boolean",
            "clicked": "boolean",
            "unsubscribed": "boolean",
            "ordered": "boolean",
            "revenue": MONEY,
            "file": "string",
            "row_number": "int64",
        }
    ),
    "settings": ibis.schema({"key": "string", "value": "string"}),
}

#: Columns each schema version added: version -> table -> columns (the upgrade to it adds
#: them, empty, to an older workspace).
ADDED_COLUMNS: dict[int, dict[str, tuple[str, ...]]] = {
    2: {
        "refreshes": ("configuration",),
        "segment_versions": (
            "version",
            "priority",
            "origin",
            "definition",
            "description",
            "action",
            "customers",
            "customers_before_exclusions",
        ),
    },
    3: {"refunds": ("order_date",)},
}

#: Natural key of each table that imports upsert into.
KEYS: dict[str, str] = {
    "customers": "customer_id",
    "orders": "order_id",
    "refunds": "refund_id",
    "events": "event_id",
    "products": "product_key",
    "identities": "identity",
}

#: The column each batch written to a table is sorted by, so that a table's row groups each
#: hold a narrow range of it: DuckDB then skips the others when a query picks a few customers
#: (or identities) out of millions, as the real-time rescoring of ``segmint serve`` does.
CLUSTERED_BY: dict[str, str] = {
    "customers": "customer_id",
    "orders": "customer_id",
    "refunds": "customer_id",
    "events": "customer_id",
    "identities": "identity",
    "segment_members": "customer_id",
    "segment_intervals": "customer_id",
}


def empty_table(name: str) -> ibis.Table:
    """An empty in-memory table with a canonical table's schema."""
    return ibis.memtable(TABLES[name].to_pyarrow().empty_table())
