"""Settings > Pipeline from the browser's side: only admins read and change it; another
team's pipelines, stages and reasons are 404s; each edit is saved and audited, and each
rule is refused with its reason: unique names, an open, a won and a lost stage in every
pipeline, a lost stage asking for a lost reason, no deleting what holds deals."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from console.extensions import db
from console.models import AuditEvent, Deal, DealStageHistory, LostReason, Pipeline, Role
from console.services.deals import pipelines
from console.services.deals.pipeline_setup import STAGE_DELETED_NOTE
from tests.conftest import login
from tests.deal_helpers import make_deal, stage_id, stage_named

DEFAULT_ORDER = [spec.name for spec in pipelines.DEFAULT_STAGES]


def first_pipeline(team) -> Pipeline:
    """The team's first pipeline (made with the default stages when it has none)."""
    pipeline = pipelines.default_pipeline(db.session, team.id)
    db.session.commit()
    return pipeline


def stage_names(pipeline_id: int) -> list[str]:
    db.session.expire_all()
    return [stage.name for stage in pipelines.stages_of(db.session, pipeline_id)]


def new_stage(**changes) -> dict:
    """A valid add-stage form ("Site visit", 40%, after nothing), `changes` over it."""
    return {
        "new-name": "Site visit",
        "new-after": "0",
        "new-probability": "40",
        "new-stale_days": "10",
        "new-outcome": "open",
        **changes,
    }


def stage_edit(stage, **changes) -> dict:
    """The edit-stage form of `stage` as saved, with `changes` over it."""
    form = {
        "edit-name": stage.name,
        "edit-probability": str(stage.probability),
        "edit-stale_days": "" if stage.stale_days is None else str(stage.stale_days),
        "edit-required": list(stage.required_fields),
        "edit-outcome": stage.outcome,
    }
    return form | changes


def audited(team, action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.team_id == team.id, AuditEvent.action == action)
        )
    )


def setup_events() -> list[AuditEvent]:
    """Every audit event of an edit of pipelines, stages or lost reasons."""
    kinds = ("pipeline.", "stage.", "lost_reason.")
    return [e for e in db.session.scalars(select(AuditEvent)) if e.action.startswith(kinds)]


def add_reason(team, name: str = "Owner passed away", active: bool = True) -> LostReason:
    pipelines.ensure_pipelines(db.session, team.id)
    reason = LostReason(team_id=team.id, name=name, position=99, active=active)
    db.session.add(reason)
    db.session.commit()
    return reason


# ------------------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.ADMIN, 200), (Role.MANAGER, 403), (Role.OPERATOR, 403), (Role.REVIEWER, 403)],
)
def test_pipeline_settings_are_for_admins(client, crew, role, expected):
    pipeline = first_pipeline(crew.team)
    login(client, crew.by_role(role))
    assert client.get("/settings/pipeline").status_code == expected
    assert client.get(f"/settings/pipeline/{pipeline.id}").status_code == expected
    stage = stage_named(crew.team.id, "Qualified")
    assert client.get(f"/settings/pipeline/stages/{stage.id}").status_code == expected


def test_pipeline_is_a_settings_tab_for_admins_only(client, crew):
    login(client, crew.admin)
    assert 'href="/settings/pipeline"' in client.get("/settings/").text
    client.post("/logout")
    login(client, crew.manager)
    assert 'href="/settings/pipeline"' not in client.get("/settings/").text


POSTS = [
    ("/settings/pipeline/add", {"name": "Roll-up"}),
    ("/settings/pipeline/{pipeline}/rename", {"name": "Renamed"}),
    ("/settings/pipeline/{pipeline}/move", {"to": "down"}),
    ("/settings/pipeline/{pipeline}/delete", {}),
    ("/settings/pipeline/{pipeline}/stages", new_stage()),
    ("/settings/pipeline/stages/{stage}", {"edit-name": "Renamed", "edit-probability": "5"}),
    ("/settings/pipeline/stages/{stage}/move", {"to": "up"}),
    ("/settings/pipeline/stages/{stage}/delete", {}),
    ("/settings/pipeline/lost-reasons", {"reason-name": "New reason"}),
    ("/settings/pipeline/lost-reasons/{reason}/rename", {"name": "Renamed"}),
    ("/settings/pipeline/lost-reasons/{reason}/move", {"to": "up"}),
    ("/settings/pipeline/lost-reasons/{reason}/retire", {}),
    ("/settings/pipeline/lost-reasons/{reason}/restore", {}),
]


def _ids(team) -> dict:
    pipeline = first_pipeline(team)
    return {
        "pipeline": pipeline.id,
        "stage": stage_id(team.id, "Qualified"),
        "reason": pipelines.lost_reasons(db.session, team.id)[-1].id,
    }


@pytest.mark.parametrize(("path", "data"), POSTS)
@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR, Role.REVIEWER])
def test_only_admins_change_pipelines(client, crew, role, path, data):
    ids = _ids(crew.team)
    login(client, crew.by_role(role))
    assert client.post(path.format(**ids), data=data).status_code == 403
    assert stage_names(ids["pipeline"]) == DEFAULT_ORDER
    assert [p.name for p in pipelines.pipelines_of(db.session, crew.team.id)] == ["Deals"]
    assert setup_events() == []


# -------------------------------------------------------------------------- isolation


@pytest.mark.parametrize(("path", "data"), [p for p in POSTS if "{" in p[0]])
def test_another_teams_pipeline_stage_or_reason_is_a_404(client, crew, outsider, path, data):
    theirs = _ids(outsider.team)
    first_pipeline(crew.team)
    login(client, crew.admin)
    assert client.post(path.format(**theirs), data=data).status_code == 404
    assert stage_names(theirs["pipeline"]) == DEFAULT_ORDER
    assert db.session.get(Pipeline, theirs["pipeline"]).name == "Deals"
    assert setup_events() == []


def test_another_teams_pages_are_404s_and_never_shown(client, crew, outsider):
    theirs = _ids(outsider.team)
    db.session.get(Pipeline, theirs["pipeline"]).name = "Rival secret pipeline"
    db.session.commit()
    login(client, crew.admin)
    assert client.get(f"/settings/pipeline/{theirs['pipeline']}").status_code == 404
    assert client.get(f"/settings/pipeline/stages/{theirs['stage']}").status_code == 404
    assert "Rival secret pipeline" not in client.get("/settings/pipeline").text


def test_another_teams_stage_cannot_be_a_place_or_a_destination(client, crew, outsider):
    theirs = _ids(outsider.team)
    ours = first_pipeline(crew.team)
    make_deal(crew.team.id, None, "Valuation")
    db.session.commit()
    login(client, crew.admin)
    placed = client.post(
        f"/settings/pipeline/{ours.id}/stages", data=new_stage(**{"new-after": theirs["stage"]})
    )
    assert placed.status_code == 400  # not among the choices
    valuation = stage_id(crew.team.id, "Valuation")
    moved = client.post(
        f"/settings/pipeline/stages/{valuation}/delete", data={"move_to": theirs["stage"]}
    )
    assert moved.status_code == 404
    assert stage_names(ours.id) == DEFAULT_ORDER


# ------------------------------------------------------------------------ the page


def test_the_page_lists_stages_in_order_with_their_settings(client, crew):
    first_pipeline(crew.team)
    login(client, crew.admin)
    page = client.get("/settings/pipeline").text
    positions = [page.index(f'<th scope="row">{name}</th>') for name in DEFAULT_ORDER]
    assert positions == sorted(positions)
    assert "Value, expected close date" in page  # Due diligence asks for both
    assert "Not selling" in page and "Add a stage" in page


def test_typed_names_are_shown_escaped(client, crew):
    first_pipeline(crew.team)
    login(client, crew.admin)
    client.post("/settings/pipeline/add", data={"name": "<b>Roll-up</b>"})
    client.post("/settings/pipeline/lost-reasons", data={"reason-name": "<i>Owner</i>"})
    page = client.get("/settings/pipeline").text
    assert "<b>Roll-up</b>" not in page and str(escape("<b>Roll-up</b>")) in page
    assert "<i>Owner</i>" not in page and str(escape("<i>Owner</i>")) in page


# ----------------------------------------------------------------------- pipelines


def test_adding_a_pipeline_gives_it_the_default_stages_and_audits_it(client, crew):
    first_pipeline(crew.team)
    login(client, crew.admin)
    response = client.post("/settings/pipeline/add", data={"name": "  Roll-up "})
    assert response.status_code == 302
    added = pipelines.pipelines_of(db.session, crew.team.id)[-1]
    assert added.name == "Roll-up"
    assert response.headers["Location"].startswith(f"/settings/pipeline/{added.id}")
    assert stage_names(added.id) == DEFAULT_ORDER
    (event,) = audited(crew.team, "pipeline.added")
    assert (event.actor_id, event.after["name"]) == (crew.admin.id, "Roll-up")


def test_a_pipeline_name_is_unique_whatever_the_case(client, crew):
    first_pipeline(crew.team)
    login(client, crew.admin)
    response = client.post("/settings/pipeline/add", data={"name": "deals"})
    assert response.status_code == 400
    assert "There is already a pipeline called deals." in response.text
    assert len(pipelines.pipelines_of(db.session, crew.team.id)) == 1


def test_renaming_a_pipeline_is_audited_before_and_after(client, crew):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    client.post(f"/settings/pipeline/{pipeline.id}/rename", data={"name": "Brokerage"})
    db.session.expire_all()
    assert db.session.get(Pipeline, pipeline.id).name == "Brokerage"
    (event,) = audited(crew.team, "pipeline.renamed")
    assert (event.before, event.after) == ({"name": "Deals"}, {"name": "Brokerage"})


def test_pipelines_reorder(client, crew):
    first_pipeline(crew.team)
    login(client, crew.admin)
    client.post("/settings/pipeline/add", data={"name": "Roll-up"})
    roll_up = pipelines.pipelines_of(db.session, crew.team.id)[-1]
    client.post(f"/settings/pipeline/{roll_up.id}/move", data={"to": "up"})
    db.session.expire_all()
    assert [p.name for p in pipelines.pipelines_of(db.session, crew.team.id)] == [
        "Roll-up",
        "Deals",
    ]
    (event,) = audited(crew.team, "pipeline.moved")
    assert event.after == {"order": ["Roll-up", "Deals"]}


def test_the_only_pipeline_is_not_deleted(client, crew):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    response = client.post(f"/settings/pipeline/{pipeline.id}/delete", follow_redirects=True)
    assert "the team keeps at least one" in response.text
    assert db.session.get(Pipeline, pipeline.id) is not None


def test_a_pipeline_holding_deals_is_not_deleted(client, crew):
    pipeline = first_pipeline(crew.team)
    pipelines.add_pipeline(db.session, crew.team.id, "Roll-up")
    make_deal(crew.team.id, None, "Qualified")
    db.session.commit()
    login(client, crew.admin)
    response = client.post(f"/settings/pipeline/{pipeline.id}/delete", follow_redirects=True)
    assert "Deals holds 1 deal: a pipeline with deals is not deleted." in response.text
    assert db.session.get(Pipeline, pipeline.id) is not None


def test_an_empty_pipeline_is_deleted_with_its_stages(client, crew):
    first_pipeline(crew.team)
    extra = pipelines.add_pipeline(db.session, crew.team.id, "Real estate").id
    db.session.commit()
    login(client, crew.admin)
    response = client.post(f"/settings/pipeline/{extra}/delete", follow_redirects=True)
    assert "Real estate deleted." in response.text
    db.session.expire_all()
    assert [p.name for p in pipelines.pipelines_of(db.session, crew.team.id)] == ["Deals"]
    assert pipelines.stages_of(db.session, extra) == []
    (event,) = audited(crew.team, "pipeline.deleted")
    assert event.before["stages"] == DEFAULT_ORDER and event.after is None


# -------------------------------------------------------------------------- stages


def test_adding_a_stage_after_another_puts_it_there(client, crew):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    data = new_stage(**{"new-after": str(stage_id(crew.team.id, "Valuation"))})
    data["new-required"] = ["value"]
    response = client.post(f"/settings/pipeline/{pipeline.id}/stages", data=data)
    assert response.status_code == 302
    names = stage_names(pipeline.id)
    assert names[names.index("Valuation") + 1] == "Site visit"
    visit = stage_named(crew.team.id, "Site visit")
    assert (visit.probability, visit.stale_days, visit.required_fields) == (40, 10, ["value"])
    positions = [s.position for s in pipelines.stages_of(db.session, pipeline.id)]
    assert positions == list(range(1, len(DEFAULT_ORDER) + 2))
    (event,) = audited(crew.team, "stage.added")
    assert event.after["name"] == "Site visit" and event.after["pipeline"] == "Deals"


def test_the_add_form_offers_to_place_a_stage_after_the_last_open_one(client, crew):
    first_pipeline(crew.team)
    login(client, crew.admin)
    page = client.get("/settings/pipeline").text
    closing = stage_id(crew.team.id, "Closing")
    assert f'<option selected value="{closing}">Closing</option>' in page


@pytest.mark.parametrize("typed", ["Valuation", "valuation", " VALUATION "])
def test_a_stage_name_is_unique_in_its_pipeline(client, crew, typed):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    response = client.post(
        f"/settings/pipeline/{pipeline.id}/stages", data=new_stage(**{"new-name": typed})
    )
    assert response.status_code == 400
    assert (
        "There is already a stage called" in response.text and "in this pipeline" in response.text
    )
    assert stage_names(pipeline.id) == DEFAULT_ORDER


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"new-probability": "101"}, "Give a probability from 0 to 100."),
        ({"new-probability": ""}, "Give a probability from 0 to 100."),
        ({"new-stale_days": "0"}, "Give 1 to 3650 days, or none."),
        ({"new-name": ""}, "Give the stage a name."),
        ({"new-required": ["lost_reason"]}, "Only a lost stage asks for a lost reason."),
    ],
)
def test_a_stage_as_typed_is_checked(client, crew, changes, message):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    response = client.post(f"/settings/pipeline/{pipeline.id}/stages", data=new_stage(**changes))
    assert response.status_code == 400
    assert message in response.text
    assert stage_names(pipeline.id) == DEFAULT_ORDER


def test_editing_a_stage_saves_and_audits_it(client, crew):
    first_pipeline(crew.team)
    stage = stage_named(crew.team.id, "Valuation")
    login(client, crew.admin)
    data = stage_edit(stage, **{"edit-name": "Valuation call", "edit-probability": "45"})
    data |= {"edit-stale_days": "", "edit-required": ["value", "expected_close"]}
    assert client.post(f"/settings/pipeline/stages/{stage.id}", data=data).status_code == 302
    db.session.expire_all()
    saved = stage_named(crew.team.id, "Valuation call")
    assert (saved.probability, saved.stale_days) == (45, None)
    assert saved.required_fields == ["value", "expected_close"]
    (event,) = audited(crew.team, "stage.updated")
    assert (event.before["name"], event.before["probability"], event.before["stale_days"]) == (
        "Valuation",
        35,
        21,
    )
    assert (event.after["name"], event.after["probability"], event.after["stale_days"]) == (
        "Valuation call",
        45,
        None,
    )


def test_the_stage_editor_opens_in_place_for_htmx(client, crew):
    first_pipeline(crew.team)
    stage = stage_named(crew.team.id, "Valuation")
    login(client, crew.admin)
    response = client.get(f"/settings/pipeline/stages/{stage.id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="stages"' in response.text and "Edit the stage Valuation" in response.text


def test_a_lost_stage_always_asks_for_the_lost_reason(client, crew):
    first_pipeline(crew.team)
    lost = stage_named(crew.team.id, "Lost")
    login(client, crew.admin)
    data = stage_edit(lost, **{"edit-required": ["value"]})
    assert client.post(f"/settings/pipeline/stages/{lost.id}", data=data).status_code == 302
    db.session.expire_all()
    assert stage_named(crew.team.id, "Lost").required_fields == ["value", "lost_reason"]
    editor = client.get(f"/settings/pipeline/stages/{lost.id}").text
    assert 'value="lost_reason" checked disabled' in editor


def test_a_pipeline_keeps_its_only_won_stage(client, crew):
    first_pipeline(crew.team)
    won = stage_named(crew.team.id, "Won")
    login(client, crew.admin)
    data = stage_edit(won, **{"edit-outcome": "open"})
    response = client.post(f"/settings/pipeline/stages/{won.id}", data=data)
    assert response.status_code == 400
    assert "A pipeline keeps at least one won stage" in response.text
    db.session.expire_all()
    assert stage_named(crew.team.id, "Won").outcome == "won"


def test_a_stage_holding_deals_keeps_its_outcome(client, crew):
    first_pipeline(crew.team)
    make_deal(crew.team.id, None, "Closing")
    db.session.commit()
    closing = stage_named(crew.team.id, "Closing")
    login(client, crew.admin)
    data = stage_edit(closing, **{"edit-outcome": "won"})
    response = client.post(f"/settings/pipeline/stages/{closing.id}", data=data)
    assert response.status_code == 400
    assert "Closing holds 1 deal: its outcome stays open" in response.text


def test_stages_move_up_and_down_and_the_move_is_audited(client, crew):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    client.post(
        f"/settings/pipeline/stages/{stage_id(crew.team.id, 'LOI')}/move", data={"to": "up"}
    )
    names = stage_names(pipeline.id)
    assert names[2:4] == ["LOI", "Valuation"]
    client.post(
        f"/settings/pipeline/stages/{stage_id(crew.team.id, 'LOI')}/move", data={"to": "down"}
    )
    assert stage_names(pipeline.id) == DEFAULT_ORDER
    assert len(audited(crew.team, "stage.moved")) == 2


def test_an_empty_stage_is_deleted(client, crew):
    pipeline = first_pipeline(crew.team)
    valuation = stage_id(crew.team.id, "Valuation")
    login(client, crew.admin)
    response = client.post(f"/settings/pipeline/stages/{valuation}/delete", follow_redirects=True)
    assert "Valuation deleted." in response.text
    assert stage_names(pipeline.id) == [n for n in DEFAULT_ORDER if n != "Valuation"]
    assert [s.position for s in pipelines.stages_of(db.session, pipeline.id)] == list(range(1, 8))
    (event,) = audited(crew.team, "stage.deleted")
    assert event.before["name"] == "Valuation"


@pytest.mark.parametrize("name", ["Won", "Lost"])
def test_the_last_won_or_lost_stage_is_not_deleted(client, crew, name):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    response = client.post(
        f"/settings/pipeline/stages/{stage_id(crew.team.id, name)}/delete", follow_redirects=True
    )
    assert f"A pipeline keeps at least one {name.lower()} stage" in response.text
    assert stage_names(pipeline.id) == DEFAULT_ORDER


def test_a_stage_holding_deals_is_deleted_only_with_a_stage_to_move_them_to(client, crew):
    pipeline = first_pipeline(crew.team)
    make_deal(crew.team.id, None, "Valuation")
    db.session.commit()
    valuation = stage_id(crew.team.id, "Valuation")
    login(client, crew.admin)
    page = client.get("/settings/pipeline").text
    assert "Move 1 and delete" in page
    qualified = stage_id(crew.team.id, "Qualified")
    assert f'<option value="{qualified}" selected>Qualified</option>' in page  # the stage before
    response = client.post(f"/settings/pipeline/stages/{valuation}/delete", follow_redirects=True)
    assert "Valuation holds 1 deal: pick the stage they move to" in response.text
    assert stage_names(pipeline.id) == DEFAULT_ORDER


def test_deleting_a_stage_moves_its_deals_each_with_a_history_row(client, crew):
    pipeline = first_pipeline(crew.team)
    deals = [make_deal(crew.team.id, None, "Valuation", title=f"Deal {n}") for n in range(3)]
    db.session.commit()
    valuation, qualified = stage_id(crew.team.id, "Valuation"), stage_id(crew.team.id, "Qualified")
    login(client, crew.admin)
    response = client.post(
        f"/settings/pipeline/stages/{valuation}/delete",
        data={"move_to": str(qualified)},
        follow_redirects=True,
    )
    assert "Valuation deleted; 3 deals moved to Qualified." in response.text
    assert "Valuation" not in stage_names(pipeline.id)
    for deal in deals:
        assert db.session.get(Deal, deal.id).stage_id == qualified
        last = db.session.scalars(
            select(DealStageHistory)
            .where(DealStageHistory.deal_id == deal.id)
            .order_by(DealStageHistory.id.desc())
        ).first()
        assert (last.from_stage, last.to_stage) == ("Valuation", "Qualified")
        assert (last.note, last.by_id) == (STAGE_DELETED_NOTE, crew.admin.id)
    (event,) = audited(crew.team, "stage.deleted")
    assert event.after == {"moved_deals": 3, "to": "Qualified"}


def test_deals_lacking_what_the_destination_asks_for_are_not_moved(client, crew):
    pipeline = first_pipeline(crew.team)
    make_deal(crew.team.id, None, "Valuation")
    db.session.commit()
    valuation, loi = stage_id(crew.team.id, "Valuation"), stage_id(crew.team.id, "LOI")
    login(client, crew.admin)
    response = client.post(
        f"/settings/pipeline/stages/{valuation}/delete",
        data={"move_to": str(loi)},
        follow_redirects=True,
    )
    assert "LOI asks for fields some deals lack (1 deal without a value)" in response.text
    assert stage_names(pipeline.id) == DEFAULT_ORDER
    assert db.session.scalar(select(Deal.stage_id)) == valuation


def test_deals_move_only_to_a_stage_of_the_same_outcome(client, crew):
    pipeline = first_pipeline(crew.team)
    make_deal(crew.team.id, None, "Valuation", value=1000)
    db.session.commit()
    valuation, won = stage_id(crew.team.id, "Valuation"), stage_id(crew.team.id, "Won")
    login(client, crew.admin)
    response = client.post(
        f"/settings/pipeline/stages/{valuation}/delete",
        data={"move_to": str(won)},
        follow_redirects=True,
    )
    assert "The deals of Valuation move to another open stage" in response.text
    assert stage_names(pipeline.id) == DEFAULT_ORDER


def test_lost_deals_moved_off_a_deleted_lost_stage_keep_their_reason_and_date(client, crew):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    client.post(
        f"/settings/pipeline/{pipeline.id}/stages",
        data=new_stage(**{"new-name": "Lost early", "new-outcome": "lost", "new-probability": "0"}),
    )
    reason = pipelines.lost_reasons(db.session, crew.team.id)[0]
    deal = make_deal(crew.team.id, None, "Lost early", lost_reason_id=reason.id)
    deal.closed_on = deal.created_at.date()
    db.session.commit()
    closed_on = deal.closed_on
    lost = stage_id(crew.team.id, "Lost")
    client.post(
        f"/settings/pipeline/stages/{stage_id(crew.team.id, 'Lost early')}/delete",
        data={"move_to": str(lost)},
    )
    db.session.expire_all()
    kept = db.session.get(Deal, deal.id)
    assert (kept.stage_id, kept.lost_reason_id, kept.closed_on) == (lost, reason.id, closed_on)


# -------------------------------------------------------------------- lost reasons


def test_lost_reasons_are_added_renamed_and_reordered(client, crew):
    pipeline = first_pipeline(crew.team)
    login(client, crew.admin)
    client.post(
        "/settings/pipeline/lost-reasons",
        data={"reason-name": "Owner retired the idea", "pipeline_id": pipeline.id},
    )
    names = [r.name for r in pipelines.lost_reasons(db.session, crew.team.id)]
    assert names[-1] == "Owner retired the idea"
    added = pipelines.lost_reasons(db.session, crew.team.id)[-1]
    client.post(f"/settings/pipeline/lost-reasons/{added.id}/rename", data={"name": "Retired"})
    client.post(f"/settings/pipeline/lost-reasons/{added.id}/move", data={"to": "up"})
    db.session.expire_all()
    names = [r.name for r in pipelines.lost_reasons(db.session, crew.team.id)]
    assert names[-2:] == ["Retired", "Other"]
    assert len(audited(crew.team, "lost_reason.added")) == 1
    (renamed,) = audited(crew.team, "lost_reason.renamed")
    assert (renamed.before, renamed.after) == (
        {"name": "Owner retired the idea"},
        {"name": "Retired"},
    )
    assert len(audited(crew.team, "lost_reason.moved")) == 1


def test_a_lost_reason_name_is_unique(client, crew):
    first_pipeline(crew.team)
    login(client, crew.admin)
    response = client.post("/settings/pipeline/lost-reasons", data={"reason-name": "price GAP"})
    assert response.status_code == 400
    assert "There is already a reason called price GAP." in response.text


def test_a_retired_reason_stays_on_its_deals_and_is_no_longer_offered(client, crew):
    pipeline = first_pipeline(crew.team)
    reason = add_reason(crew.team)
    deal = make_deal(crew.team.id, None, "Lost", lost_reason_id=reason.id)
    db.session.commit()
    login(client, crew.admin)
    retire = f"/settings/pipeline/lost-reasons/{reason.id}/retire"
    response = client.post(retire, data={"pipeline_id": pipeline.id}, follow_redirects=True)
    assert "Owner passed away is retired: no longer offered." in response.text
    db.session.expire_all()
    assert reason.id not in [r.id for r in pipelines.lost_reasons(db.session, crew.team.id)]
    assert db.session.get(Deal, deal.id).lost_reason.name == "Owner passed away"
    (event,) = audited(crew.team, "lost_reason.retired")
    assert (event.before["active"], event.after["active"]) == (True, False)
    client.post(f"/settings/pipeline/lost-reasons/{reason.id}/restore")
    db.session.expire_all()
    assert reason.id in [r.id for r in pipelines.lost_reasons(db.session, crew.team.id)]
    assert len(audited(crew.team, "lost_reason.restored")) == 1
