"""The filter language: parsing, error positions, and values that never become SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from modelward.errors import InvalidInput
from modelward.tracking.filters import parse_filter, parse_order_by, tokenize
from modelward.tracking.queries import runs_t
from modelward.tracking.search import condition_sql, like_to_glob


def test_a_full_filter_parses_into_typed_conditions() -> None:
    conds = parse_filter(
        "metrics.auc > 0.8 AND params.max_depth = \"5\" and tags.team = 'risk' "
        'and attributes.status IN ("FINISHED", "failed") and attributes.name LIKE "lr-%" '
        "and tags.`model type` ILIKE 'xg%' and metrics.`val.loss` <= -1.5e-3 "
        "and attributes.start_time >= 1700000000000 and params.x NOT IN ('a')"
    )
    got = [(c.ident.entity, c.ident.key, c.op, c.value) for c in conds]
    assert got == [
        ("metrics", "auc", ">", 0.8),
        ("params", "max_depth", "=", "5"),
        ("tags", "team", "=", "risk"),
        ("attributes", "status", "in", ("FINISHED", "FAILED")),
        ("attributes", "name", "like", "lr-%"),
        ("tags", "model type", "ilike", "xg%"),
        ("metrics", "val.loss", "<=", -0.0015),
        ("attributes", "start_time", ">=", 1700000000000),
        ("params", "x", "not in", ("a",)),
    ]


def test_empty_and_whitespace_filters_match_everything() -> None:
    assert parse_filter("") == [] and parse_filter("   ") == []


def test_singular_prefixes_dotted_bare_keys_and_iso_dates() -> None:
    (a, b, c) = parse_filter(
        "metric.val.auc != 1 and param.lr = '0.1' and attr.start_time < '2024-01-01'"
    )
    assert (a.ident.entity, a.ident.key) == ("metrics", "val.auc")
    assert (b.ident.entity, b.ident.key) == ("params", "lr")
    assert c.value == 1704067200000


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("metrics.auc >> 0.8", "unexpected token '>'", 13),
        ("metrics.auc > 0 or 1=1", "unexpected token 'or'", 16),
        ("metrics.auc > 0.8 and", "unexpected end of input", 21),
        ("metrics.auc 0.8", "unexpected token '0.8'", 12),
        ("auc > 0.8", "unknown name 'auc'", 0),
        ("metricz.auc > 1", "unknown entity 'metricz'", 0),
        ("metrics.auc > 'high'", "metrics.auc compares with a number", 14),
        ("params.depth = 5", "params.depth compares with a quoted string", 15),
        ("params.depth > '5'", "operator '>' does not apply to params.depth", 15),
        ("tags.team = 'risk", "unterminated string", 12),
        ("metrics.`auc > 1", "unterminated back-quoted key", 8),
        ("attributes.colour = 'red'", "unknown attribute 'colour'", 0),
        ("attributes.status = 'DONE'", "unknown status 'DONE'", 20),
        ("metrics.auc > 1; DROP TABLE runs", "unexpected character ';'", 15),
        ("params.x in 'a'", "expected '(' after 'in'", 12),
        ("params.x in ('a' 'b')", "expected ',' or ')'", 17),
        ("params.x not = 'a'", "expected 'in', 'like' or 'ilike' after 'not'", 13),
        ("metrics.auc > 1 metrics.loss < 2", "expected 'and' or the end of the filter", 16),
        ("metrics.auc > 12abc", "after a number", 16),
        ("metrics.auc ! 1", "did you mean '!='", 12),
    ],
)
def test_malformed_filters_name_the_position(text: str, message: str, position: int) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_filter(text)
    assert exc.value.field == "filter"
    assert message in exc.value.message
    assert exc.value.message.endswith(f"at position {position}")
    assert exc.value.details == {"position": position}


def test_order_by_items() -> None:
    items = parse_order_by(["metrics.auc desc", "params.x", "attributes.start_time ASC"])
    assert [(i.ident.entity, i.ident.key, i.descending) for i in items] == [
        ("metrics", "auc", True),
        ("params", "x", False),
        ("attributes", "start_time", False),
    ]
    with pytest.raises(InvalidInput) as exc:
        parse_order_by(["metrics.auc downwards"])
    assert exc.value.field == "order_by" and "position 12" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        parse_order_by(["attributes.colour"])
    assert exc.value.field == "order_by"


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_values_are_bound_parameters_never_sql_text(dialect) -> None:  # type: ignore[no-untyped-def]
    hostile = "'; DROP TABLE runs; --"
    text = (
        f'params.x = "{hostile}" and tags.t LIKE "%{hostile}" and attributes.name IN ("{hostile}")'
    )
    query = select(runs_t.c.id)
    for cond in parse_filter(text):
        query = query.where(condition_sql(cond, dialect.name))
    compiled = query.compile(dialect=dialect)
    sql = str(compiled)
    assert "DROP" not in sql and "--" not in sql
    values = [v for v in compiled.params.values() if isinstance(v, str)]
    assert hostile in values and "x" in values


def test_quotes_inside_strings_are_escaped_with_backslashes() -> None:
    (cond,) = parse_filter(r"tags.note = 'it\'s \"fine\"'")
    assert cond.value == 'it\'s "fine"'


def test_like_patterns_become_case_sensitive_globs() -> None:
    assert like_to_glob("lr-%") == "lr-*"
    assert like_to_glob("a_c") == "a?c"
    assert like_to_glob(r"100\%") == "100%"
    assert like_to_glob("what?*[x]") == "what[?][*][[]x]"


def test_tokens_carry_their_positions() -> None:
    tokens = tokenize("metrics.auc>=0.5")
    assert [(t.kind, t.pos) for t in tokens] == [
        ("ident", 0),
        ("op", 11),
        ("number", 13),
        ("end", 16),
    ]
