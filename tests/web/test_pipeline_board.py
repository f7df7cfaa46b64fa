"""The pipeline board and list from the browser's side: filters that narrow the board,
the list and the CSV and stay in their links, column totals of every filtered deal,
a column's next cards, moves by the card's plain form and by script (roles, the fields
dialog, conflicts), another team's deal a 404 everywhere, and a board whose cost in
queries does not grow with its cards."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from console.extensions import db
from console.models import AuditEvent, Deal, DealStageHistory, Task
from console.pipeline import board as board_routes
from console.services.deals import board as board_service
from console.services.deals import pipelines
from tests.conftest import login, make_lead
from tests.deal_helpers import make_deal, stage_id

NOW = datetime(2026, 1, 14, 21, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The board reads the tests' clock."""
    monkeypatch.setattr(board_routes, "utcnow", lambda: NOW)


def deal(crew, name, stage="Discovery", days=3, **fields) -> Deal:
    """A committed deal of a new lead called `name`, `days` in its stage."""
    lead = make_lead(crew.team, name, f"Owner of {name}", state="IL")
    made = make_deal(crew.team.id, lead, stage, at=NOW - timedelta(days=days), **fields)
    db.session.commit()
    return made


def fresh(found: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, found.id)


def card_titles(page: str) -> list[str]:
    return re.findall(r'class="card-title" href="[^"]+">([^<]+)</a>', page)


def head_of(page: str, stage: int) -> str:
    """The header of the column of stage id `stage`."""
    found = re.search(
        rf'<header class="column-head" id="stage-{stage}-head">(.*?)</header>', page, re.S
    )
    assert found, f"no header for stage {stage}"
    return found.group(1)


def move(client, found: Deal, stage: str, team_id: int, headers=None, **fields):
    data = {
        "stage_id": stage_id(team_id, stage),
        "seen_stage_id": fields.pop("seen", found.stage_id),
        "next": fields.pop("next", "/pipeline"),
        **fields,
    }
    return client.post(f"/deals/{found.id}/move", data=data, headers=headers or {})


# ---------------------------------------------------------------- the board


def test_every_role_sees_the_board_and_its_nav_link(client, crew):
    deal(crew, "Harbor Plumbing")
    for user in (crew.reviewer, crew.operator, crew.manager, crew.admin):
        login(client, user)
        page = client.get("/pipeline")
        assert page.status_code == 200
        assert '<a href="/pipeline" aria-current="page">Pipeline</a>' in page.text
        assert "Harbor Plumbing" in page.text
        assert [n for n in re.findall(r'id="stage-\d+-name">([^<]+?) <', page.text)] == [
            spec.name for spec in pipelines.DEFAULT_STAGES
        ]
        client.post("/logout")


def test_the_board_needs_sign_in(client, crew):
    for path in ("/pipeline", "/pipeline/column?stage=1", "/deals", "/deals.csv"):
        assert client.get(path).status_code == 302


def test_column_totals_count_every_filtered_deal_not_only_those_shown(client, crew, monkeypatch):
    monkeypatch.setattr(board_service, "COLUMN_SIZE", 2)
    for n in range(5):
        deal(crew, f"Lake {n} Bakery", "Valuation", days=n + 1, value=Decimal("100000"))
    deal(crew, "Ridge Dental", "Valuation", value=Decimal("900000"), stale_at=NOW)
    login(client, crew.manager)
    page = client.get("/pipeline", query_string={"size": 2}).text
    valuation = stage_id(crew.team.id, "Valuation")
    head = head_of(page, valuation)
    assert '<span class="column-count" title="Deals in this stage">6</span>' in head
    assert "$1,400,000" in head and "$490,000" in head  # 35% of it
    # The stale-only filter narrows the totals too.
    head = head_of(client.get("/pipeline?stale=1").text, valuation)
    assert ">1</span>" in head and "$900,000" in head and "$315,000" in head


def test_a_column_shows_its_oldest_cards_first_and_loads_more_after_the_last(
    client, crew, monkeypatch
):
    monkeypatch.setattr(board_service, "COLUMN_SIZE", 2)
    for n in range(5):
        deal(crew, f"Shop {n}", "Qualified", days=10 - n)
    login(client, crew.manager)
    page = client.get("/pipeline?q=shop").text
    assert card_titles(page) == ["Shop 0", "Shop 1"]
    more = re.search(r'<li class="more" hx-get="([^"]+)" hx-trigger="revealed"', page)
    assert more, "the column has a loader for more"
    link = more.group(1).replace("&amp;", "&")
    assert "q=shop" in link
    second = client.get(link, headers=HTMX).text
    assert card_titles(second) == ["Shop 2", "Shop 3"]
    third_link = re.search(r'hx-get="([^"]+)"', second).group(1).replace("&amp;", "&")
    third = client.get(third_link, headers=HTMX).text
    assert card_titles(third) == ["Shop 4"] and 'class="more"' not in third


def test_cards_show_owner_time_days_stale_next_step_overdue_assignee_and_touch(client, crew):
    found = deal(
        crew,
        "Loop Fittings",
        "Qualified",
        days=20,
        value=Decimal("1250000"),
        assignee_id=crew.operator.id,
        stale_at=NOW - timedelta(hours=2),
    )
    db.session.add_all(
        [
            Task(
                team_id=crew.team.id,
                title="Send the NDA",
                deal_id=found.id,
                due_at=NOW - timedelta(hours=1),
            ),
            Task(
                team_id=crew.team.id,
                title="Later call",
                lead_id=found.lead_id,
                due_at=NOW + timedelta(days=3),
            ),
            Task(
                team_id=crew.team.id,
                title="Done one",
                lead_id=found.lead_id,
                due_at=NOW - timedelta(days=9),
                state="done",
            ),
        ]
    )
    db.session.commit()
    login(client, crew.manager)
    page = client.get("/pipeline").text
    card = re.search(r'<li class="card is-stale is-overdue".*?</li>', page, re.S).group(0)
    assert "Owner of Loop Fittings" in card
    assert "3:00 pm, Chicago" in card  # the owner's clock (Illinois)
    assert '<span class="days late"' in card and "20 d in stage" in card  # past 14 days
    assert ">Stale</span>" in card
    assert "Next: Send the NDA" in card and ">Overdue</span>" in card
    assert "Done one" not in card and "Later call" not in card
    assert "$1,250,000" in card
    assert crew.operator.name in card and "touched 20 d ago" in card


def test_the_next_step_may_be_the_leads_own_task(client, crew):
    found = deal(crew, "Bay Marine", "Qualified")
    db.session.add(
        Task(
            team_id=crew.team.id,
            title="Call Bo",
            lead_id=found.lead_id,
            due_at=NOW + timedelta(days=1),
        )
    )
    db.session.commit()
    login(client, crew.manager)
    page = client.get("/pipeline").text
    assert "Next: Call Bo" in page and ">Overdue</span>" not in page


def test_the_board_costs_the_same_few_queries_whatever_its_cards(client, crew):
    login(client, crew.manager)

    def statements() -> int:
        seen: list[str] = []

        def count(*args):
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/pipeline").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    client.get("/pipeline")  # the team's pipeline is made on its first visit
    few = [deal(crew, f"Few {n}", stage) for n, stage in enumerate(("Discovery", "LOI"))]
    db.session.add(Task(team_id=crew.team.id, title="Call", deal_id=few[0].id, due_at=NOW))
    db.session.commit()
    small = statements()
    for n in range(30):
        made = deal(crew, f"Many {n}", ("Discovery", "Qualified", "Valuation", "Closing")[n % 4])
        db.session.add(Task(team_id=crew.team.id, title="Call", deal_id=made.id, due_at=NOW))
    db.session.commit()
    assert statements() == small
    assert small <= 15


def test_filters_narrow_the_board_and_survive_in_its_links(client, crew):
    mine = deal(
        crew,
        "Mine Corp",
        assignee_id=crew.operator.id,
        value=Decimal("500000"),
        first_touch_persona="GIANNA",
    )
    deal(crew, "Theirs Corp", assignee_id=crew.manager.id, value=Decimal("50000"))
    deal(crew, "Nobody Corp", value=Decimal("2000000"), first_touch_persona="CATHY")
    login(client, crew.operator)
    cases = {
        "assignee=me": ["Mine Corp"],
        f"assignee={crew.manager.id}": ["Theirs Corp"],
        "assignee=none": ["Nobody Corp"],
        "persona=gianna": ["Mine Corp"],
        "value_min=100000&value_max=1,000,000": ["Mine Corp"],
        "q=nobody": ["Nobody Corp"],
        f"q={mine.lead.code}": ["Mine Corp"],
        "q=owner of theirs": ["Theirs Corp"],
    }
    for query, expected in cases.items():
        page = client.get(f"/pipeline?{query}").text
        assert card_titles(page) == expected, query
        listed = client.get(f"/deals?{query}").text
        assert re.findall(r'<td><a href="/deals/\d+">([^<]+)</a>', listed) == expected, query
    page = client.get("/pipeline?assignee=me&persona=GIANNA").text
    assert 'href="/deals?assignee=me&amp;persona=GIANNA"' in page
    assert 'href="/deals.csv?assignee=me&amp;persona=GIANNA"' in page
    assert 'name="next" value="/pipeline?assignee=me&amp;persona=GIANNA"' in page


def test_bad_filter_values_are_ignored_never_an_error(client, crew):
    deal(crew, "Harbor Plumbing")
    login(client, crew.manager)
    query = (
        "pipeline=abc&assignee=someone&campaign=-1&persona=<b>&value_min=lots"
        "&value_max=$-5&stale=maybe&after=nonsense&page=x&sort=evil&dir=up"
    )
    for path in ("/pipeline", "/deals", "/deals.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, path
        assert "Harbor Plumbing" in response.text
    assert board_service.BoardFilters.from_args({"pipeline": "99999999999999"}).pipeline_id is None


def test_the_source_campaign_filter(client, crew):
    from console.models import Campaign

    campaign = Campaign(team_id=crew.team.id, name="Spring plumbers")
    db.session.add(campaign)
    db.session.commit()
    deal(crew, "From Spring", source_campaign_id=campaign.id)
    deal(crew, "From Nowhere")
    login(client, crew.manager)
    page = client.get(f"/pipeline?campaign={campaign.id}").text
    assert card_titles(page) == ["From Spring"]
    assert f'<option value="{campaign.id}" selected>Spring plumbers</option>' in page


def test_the_list_sorts_both_ways_and_keeps_the_filters(client, crew):
    deal(crew, "Alpha", "LOI", value=Decimal("300"), days=1)
    deal(crew, "Bravo", "Discovery", value=Decimal("900"), days=9)
    deal(crew, "Charlie", "Valuation", value=None, days=5)
    login(client, crew.manager)

    def order(query: str) -> list[str]:
        page = client.get(f"/deals?{query}").text
        return re.findall(r'<td><a href="/deals/\d+">([^<]+)</a>', page)

    assert order("") == ["Bravo", "Charlie", "Alpha"]  # by stage
    assert order("sort=value&dir=desc") == ["Bravo", "Alpha", "Charlie"]  # blanks last
    assert order("sort=value&dir=asc") == ["Alpha", "Bravo", "Charlie"]
    assert order("sort=days&dir=desc") == ["Bravo", "Charlie", "Alpha"]
    assert order("sort=business&dir=desc") == ["Charlie", "Bravo", "Alpha"]
    assert order("sort=weighted&dir=desc") == ["Alpha", "Bravo", "Charlie"]  # 180 > 90
    page = client.get("/deals?sort=value&dir=asc&q=a").text
    assert 'href="/deals?sort=value&amp;dir=desc&amp;q=a"' in page
    assert 'aria-sort="ascending"' in page
    assert 'name="sort" value="value"' in page  # the filter form keeps the sort


def test_the_list_totals_every_filtered_deal_not_only_its_page(client, crew, monkeypatch):
    monkeypatch.setattr(board_service, "LIST_PAGE_SIZE", 2)
    deal(crew, "Alpha", "LOI", value=Decimal("300"))  # weighted 60%: 180
    deal(crew, "Bravo", "Discovery", value=Decimal("900"))  # 10%: 90
    deal(crew, "Charlie", "Valuation", value=None)
    deal(crew, "Delta", "Discovery", value=Decimal("5000"), stale_at=NOW)
    login(client, crew.manager)
    page = client.get("/deals?q=owner").text  # all four, two a page
    foot = re.search(r"<tfoot>.*?</tfoot>", page, re.S).group(0)
    assert "All 4 deals shown by these filters" in foot
    assert re.findall(r'<td class="num">([^<]+)</td>', foot) == ["$6,200", "$770"]
    foot = re.search(r"<tfoot>.*?</tfoot>", client.get("/deals?stale=1").text, re.S).group(0)
    assert "All 1 deal shown" in foot and "$5,000" in foot
    assert "Showing 1–2 of 4 deals" in page


def test_the_csv_is_the_filtered_deals_in_the_export_columns(client, crew):
    from console.services.deals.deals import EXPORT_COLUMNS

    deal(crew, "Stale One", "Qualified", stale_at=NOW, value=Decimal("1000"))
    deal(crew, "Fresh One", "Qualified")
    login(client, crew.reviewer)
    response = client.get("/deals.csv?stale=1")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [row[EXPORT_COLUMNS.index("title")] for row in rows[1:]] == ["Stale One"]
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["stage"] == "Qualified" and line["weighted_value"] == "200.00"
    assert line["stale"] == "yes"


def test_pipelines_switch_and_each_board_shows_its_own(client, crew):
    pipelines.ensure_pipelines(db.session, crew.team.id)
    pipelines.add_pipeline(db.session, crew.team.id, "Roll-up")
    db.session.commit()
    deal(crew, "Brokered Co")
    lead = make_lead(crew.team, "Rolled Co")
    make_deal(crew.team.id, lead, "Qualified", pipeline="Roll-up")
    db.session.commit()
    login(client, crew.manager)
    page = client.get("/pipeline").text
    assert card_titles(page) == ["Brokered Co"]
    rollup = db.session.scalar(
        select(pipelines.Pipeline.id).where(pipelines.Pipeline.name == "Roll-up")
    )
    assert f'href="/pipeline?pipeline={rollup}"' in page
    page = client.get(f"/pipeline?pipeline={rollup}").text
    assert card_titles(page) == ["Rolled Co"]
    assert "Pipeline · Roll-up" in page


# ---------------------------------------------------------------- moves


def test_the_no_script_form_moves_and_returns_to_the_filtered_board(client, crew):
    found = deal(crew, "Harbor Plumbing", "Discovery")
    login(client, crew.manager)
    response = move(client, found, "Qualified", crew.team.id, next="/pipeline?q=harbor")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/pipeline?q=harbor")
    assert fresh(found).stage.name == "Qualified"
    page = client.get("/pipeline?q=harbor").text
    assert "Moved Harbor Plumbing from Discovery to Qualified." in page
    history = db.session.scalars(
        select(DealStageHistory)
        .where(DealStageHistory.deal_id == found.id)
        .order_by(DealStageHistory.id)
    ).all()
    assert [(h.from_stage, h.to_stage, h.by_id) for h in history][-1] == (
        "Discovery",
        "Qualified",
        crew.manager.id,
    )


def test_a_move_from_another_site_goes_back_to_the_board(client, crew):
    found = deal(crew, "Harbor Plumbing", "Discovery")
    login(client, crew.manager)
    response = move(client, found, "Qualified", crew.team.id, next="https://evil.example/pipeline")
    assert response.headers["Location"] == "/pipeline"


def test_a_script_move_answers_the_card_and_both_fresh_headers(client, crew):
    found = deal(crew, "Harbor Plumbing", "Discovery", value=Decimal("400000"))
    deal(crew, "Other", "Discovery", value=Decimal("100000"))
    login(client, crew.manager)
    response = move(client, found, "Qualified", crew.team.id, headers=HTMX)
    assert response.status_code == 200
    discovery, qualified = stage_id(crew.team.id, "Discovery"), stage_id(crew.team.id, "Qualified")
    assert f'id="deal-{found.id}" data-deal="{found.id}" data-stage="{qualified}"' in response.text
    assert ">1</span>" in head_of(response.text, discovery) and "$100,000" in head_of(
        response.text, discovery
    )
    assert ">1</span>" in head_of(response.text, qualified) and "$80,000" in head_of(
        response.text, qualified
    )
    assert "Moved Harbor Plumbing from Discovery to Qualified." in response.text


def test_reviewers_and_operators_move_only_their_own_deals(client, crew):
    others = deal(crew, "Someone Elses", assignee_id=crew.manager.id)
    theirs = deal(crew, "Operators Own", assignee_id=crew.operator.id)
    login(client, crew.reviewer)
    response = move(client, others, "Qualified", crew.team.id)
    assert response.status_code == 403
    assert "Only the deal&#39;s assignee, a manager or an admin" in response.text
    response = move(client, others, "Qualified", crew.team.id, headers=HTMX)
    assert response.status_code == 403
    assert fresh(others).stage.name == "Discovery"
    page = client.get("/pipeline").text
    assert f'action="/deals/{others.id}/move"' not in page  # no controls to whom cannot
    client.post("/logout")
    login(client, crew.operator)
    page = client.get("/pipeline").text
    assert (
        f'action="/deals/{theirs.id}/move"' in page
        and f'action="/deals/{others.id}/move"' not in page
    )
    assert move(client, theirs, "Qualified", crew.team.id).status_code == 303
    assert fresh(theirs).stage.name == "Qualified"


def test_a_stage_that_needs_fields_asks_for_them_then_moves(client, crew):
    found = deal(crew, "Harbor Plumbing", "Valuation")
    login(client, crew.manager)
    response = move(client, found, "Due diligence", crew.team.id, headers=HTMX)
    assert response.status_code == 422
    assert '<dialog id="move-dialog"' in response.text
    assert 'name="value"' in response.text and 'name="expected_close"' in response.text
    assert 'name="lost_reason_id"' not in response.text and 'name="closed_on"' not in response.text
    assert fresh(found).stage.name == "Valuation"
    # Without script the same form comes as a page.
    page = move(client, found, "Due diligence", crew.team.id)
    assert (
        page.status_code == 422
        and "<dialog" not in page.text
        and 'name="expected_close"' in page.text
    )
    # A value that is not one asks again, saying why.
    again = move(
        client,
        found,
        "Due diligence",
        crew.team.id,
        headers=HTMX,
        dialog="1",
        value="lots",
        expected_close="2026-04-30",
    )
    assert again.status_code == 422 and "Type the deal&#39;s value in dollars" in again.text
    done = move(
        client,
        found,
        "Due diligence",
        crew.team.id,
        headers=HTMX,
        dialog="1",
        value="1,250,000",
        expected_close="2026-04-30",
    )
    assert done.status_code == 200
    moved = fresh(found)
    assert moved.stage.name == "Due diligence" and moved.value == Decimal("1250000.00")
    assert moved.expected_close == date(2026, 4, 30)


def test_won_records_the_close_date_in_the_viewers_zone_and_the_value(client, crew):
    found = deal(crew, "Harbor Plumbing", "Closing")
    crew.manager.time_zone = "Pacific/Honolulu"
    db.session.commit()
    login(client, crew.manager)
    response = move(client, found, "Won", crew.team.id, headers=HTMX)
    assert response.status_code == 422
    assert 'name="closed_on" value="2026-01-14"' in response.text  # 11 am in Honolulu
    assert 'name="value"' in response.text
    done = move(
        client, found, "Won", crew.team.id, value="2,000,000", closed_on="2026-01-13", dialog="1"
    )
    assert done.status_code == 303
    won = fresh(found)
    assert won.stage.outcome == "won" and won.closed_on == date(2026, 1, 13)
    assert won.value == Decimal("2000000.00")


def test_lost_needs_a_reason_from_the_teams_list(client, crew, outsider):
    found = deal(crew, "Harbor Plumbing", "Qualified")
    pipelines.ensure_pipelines(db.session, outsider.team.id)
    db.session.commit()
    theirs = pipelines.lost_reasons(db.session, outsider.team.id)[0]
    ours = pipelines.lost_reasons(db.session, crew.team.id)[1]
    login(client, crew.manager)
    asked = move(client, found, "Lost", crew.team.id, headers=HTMX)
    assert asked.status_code == 422 and 'name="lost_reason_id"' in asked.text
    assert ours.name in asked.text and 'name="closed_on"' in asked.text
    refused = move(
        client, found, "Lost", crew.team.id, headers=HTMX, dialog="1", lost_reason_id=theirs.id
    )
    assert refused.status_code == 422 and "Pick why the deal was lost." in refused.text
    done = move(
        client,
        found,
        "Lost",
        crew.team.id,
        headers=HTMX,
        dialog="1",
        lost_reason_id=ours.id,
        lost_note="Went with a cousin",
    )
    assert done.status_code == 200
    lost = fresh(found)
    assert lost.lost_reason_id == ours.id and lost.lost_note == "Went with a cousin"
    assert lost.closed_on == date(2026, 1, 14)
    assert f">{ours.name}</span>" in done.text  # the card shows why


def test_a_conflicting_move_answers_409_and_shows_the_card_where_it_is(client, crew):
    found = deal(crew, "Harbor Plumbing", "Discovery")
    discovery = found.stage_id
    login(client, crew.admin)
    assert move(client, found, "Valuation", crew.team.id).status_code == 303
    client.post("/logout")
    login(client, crew.manager)
    response = move(client, found, "Qualified", crew.team.id, headers=HTMX, seen=discovery)
    assert response.status_code == 409
    assert f"{crew.admin.name} moved this deal to Valuation" in response.text
    valuation = stage_id(crew.team.id, "Valuation")
    assert f'data-deal="{found.id}" data-stage="{valuation}"' in response.text
    assert f'id="stage-{discovery}-head"' in response.text
    assert fresh(found).stage.name == "Valuation"
    page = move(client, found, "Qualified", crew.team.id, seen=discovery)
    assert page.status_code == 409 and "moved this deal to Valuation" in page.text
    assert '<div class="board" data-board>' in page.text


def test_a_move_and_its_history_are_one_transaction(client, crew, monkeypatch):
    found = deal(crew, "Harbor Plumbing", "Discovery")
    before = db.session.scalar(select(db.func.count(DealStageHistory.id)))
    from console.services.deals import moves

    def broken(*args, **kwargs):
        raise RuntimeError("the audit store is down")

    monkeypatch.setattr(moves.audit, "record", broken)
    login(client, crew.manager)
    with pytest.raises(RuntimeError):
        move(client, found, "Qualified", crew.team.id)
    db.session.rollback()
    assert fresh(found).stage.name == "Discovery"
    assert db.session.scalar(select(db.func.count(DealStageHistory.id))) == before
    assert (
        db.session.scalar(
            select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "deal.moved")
        )
        == 0
    )


# ---------------------------------------------------------------- isolation


def test_another_teams_deal_is_a_404_on_every_route(client, crew, outsider):
    theirs = deal(outsider, "Rival Deal", "Discovery")
    their_stage = stage_id(outsider.team.id, "Qualified")
    their_pipeline = theirs.pipeline_id
    login(client, crew.admin)
    assert (
        client.post(f"/deals/{theirs.id}/move", data={"stage_id": their_stage}).status_code == 404
    )
    assert (
        client.post(
            f"/deals/{theirs.id}/move", data={"stage_id": their_stage}, headers=HTMX
        ).status_code
        == 404
    )
    assert client.get(f"/pipeline/column?stage={their_stage}", headers=HTMX).status_code == 404
    for path in (
        f"/pipeline?pipeline={their_pipeline}",
        f"/deals?pipeline={their_pipeline}",
        f"/deals.csv?pipeline={their_pipeline}",
        "/pipeline?q=rival",
    ):
        response = client.get(path)
        assert response.status_code == 200 and "Rival Deal" not in response.text, path
    # Our deal may not be moved into their stage either.
    ours = deal(crew, "Our Deal")
    response = client.post(
        f"/deals/{ours.id}/move", data={"stage_id": their_stage, "seen_stage_id": ours.stage_id}
    )
    assert response.status_code == 422 and fresh(ours).stage.name == "Discovery"
    assert fresh(theirs).stage.name == "Discovery"


def test_user_typed_names_are_escaped(client, crew):
    deal(crew, "<script>alert(1)</script> Plumbing", title="<b>x</b>")
    login(client, crew.manager)
    for path in ("/pipeline", "/deals"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Plumbing" in page
