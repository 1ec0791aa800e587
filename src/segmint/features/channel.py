"""Channel and device: where a customer orders and browses, as of a date.

Channels are the ``orders.channel`` of counted orders up to the as-of day (``web``, ``pos``,
``app``, ..., from Shopify's ``Source``, see docs/data-model.md); devices are the ``device``
of events up to the end of the as-of day.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from segmint.definitions import counted_orders, events_as_of
from segmint.features.catalog import feature
from segmint.features.tables import Tables

GROUP = "Channel and device"
NO_STRINGS = ibis.literal([], type="array<string>")

PREFERRED_CHANNEL = feature(
    "preferred_channel",
    "string",
    GROUP,
    "The channel of most counted orders (ties: the channel of the most recent of them, then "
    "alphabetical); empty without orders.",
)
PREFERRED_CHANNEL_SHARE = feature(
    "preferred_channel_share",
    "number",
    GROUP,
    "Counted orders in `preferred_channel` over all counted orders (0 to 1); empty without orders.",
)
CHANNELS_USED = feature(
    "channels_used",
    "integer",
    GROUP,
    "Number of different channels among counted orders (0 without orders).",
)
CHANNELS = feature(
    "channels",
    "list",
    GROUP,
    "The channels of counted orders, each once, alphabetical (empty list without orders).",
)
PREFERRED_DEVICE = feature(
    "preferred_device",
    "string",
    GROUP,
    "The most frequent non-empty `device` of the customer's events up to the as-of day (ties: "
    "the device of the most recent of them, then alphabetical); empty without such events.",
)


def channel_features(tables: Tables, as_of: date) -> ir.Table:
    """One row per customer of ``tables.customers``: ``customer_id`` and the features above."""
    orders = counted_orders(tables.orders, as_of)
    orders = orders.filter(orders.channel.notnull())
    per_channel = orders.group_by(["customer_id", "channel"]).aggregate(
        _orders=orders.count(), _latest=orders.placed_at.max()
    )
    top_channel = _top(per_channel, "channel", "_orders", "_latest")
    per_customer = per_channel.group_by("customer_id").aggregate(
        _total=per_channel._orders.sum(),
        _channels=per_channel.channel.collect().sort(),
    )
    events = events_as_of(tables.events, as_of)
    events = events.filter(events.device.notnull() & (events.device.strip() != ""))
    per_device = events.group_by(["customer_id", "device"]).aggregate(
        _events=events.count(), _latest=events.occurred_at.max()
    )
    top_device = _top(per_device, "device", "_events", "_latest")
    joined = tables.customers.select("customer_id")
    for part in (per_customer, top_channel, top_device):
        joined = joined.left_join(part, "customer_id").drop("customer_id_right")
    channels = joined._channels.fill_null(NO_STRINGS)
    return joined.select(
        customer_id=joined.customer_id,
        **{
            PREFERRED_CHANNEL: joined.channel,
            PREFERRED_CHANNEL_SHARE: ibis.ifelse(
                joined._total > 0,
                joined._channel_orders.cast("float64") / joined._total.cast("float64"),
                ibis.null("float64"),
            ),
            CHANNELS_USED: channels.length().cast("int64"),
            CHANNELS: channels,
            PREFERRED_DEVICE: joined.device,
        },
    )


def _top(counts: ir.Table, key: str, count: str, latest: str) -> ir.Table:
    """Per customer, the ``key`` with the largest ``count`` (ties: latest, then by name), and
    that count as ``_<key>_<count>``."""
    rank = ibis.row_number().over(
        group_by=counts.customer_id,
        order_by=[ibis.desc(counts[count]), ibis.desc(counts[latest]), counts[key]],
    )
    ranked = counts.mutate(_rank=rank)
    top = ranked.filter(ranked._rank == 0)
    return top.select("customer_id", key, **{f"_{key}_{count.strip('_')}": top[count]})
