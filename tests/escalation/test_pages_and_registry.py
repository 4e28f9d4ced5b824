"""Operators manage keyholders and patrols; the patrol page and the console are served offline."""

from __future__ import annotations

from shelterwatch.escalation import links


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_patrol_page_and_console_are_served_by_the_app_without_a_cdn(client):
    for path in ("/patrol", "/console", "/patrol.js", "/console.js"):
        page = client.get(path)
        assert page.status_code == 200
        assert "https://" not in page.text  # nothing loaded from elsewhere during an alert


def test_console_state_is_for_operators_only(client, make_token):
    assert client.get("/v1/console").status_code == 401
    assert client.get("/v1/console", headers=auth(make_token("patrol"))).status_code == 403
    board = client.get("/v1/console", headers=auth(make_token("operator"))).json()
    assert board["incidents"] == [] and board["alerts"] == []


def test_operator_imports_keyholders_from_csv_and_contacts_stay_private(client, make_token):
    operator = make_token("operator")
    csv = ("role,name,shelter_id,email,sms,telegram,webhook\n"
           "keyholder,Ivanna,1,ivanna@example.invalid,+380441112233,,\n"
           "keyholder,Ivanna,2,ivanna@example.invalid,+380441112233,,\n"
           "owner,ЦПМСД № 4,1,office@example.invalid,,,\n")
    done = client.post("/v1/keyholders/import", content=csv.encode(),
                       headers={**auth(operator), "Content-Type": "text/csv"})
    assert done.status_code == 201, done.text
    assert done.json()["imported"] == {"keyholder": 1, "owner": 1}
    listed = client.get("/v1/keyholders", headers=auth(operator)).json()["keyholders"]
    assert listed[0]["shelter_ids"] == [1, 2] and listed[0]["sms"] == "+380441112233"
    public_log = client.get("/v1/log?after=0").text
    assert "ivanna@example.invalid" not in public_log and "+380441112233" not in public_log


def test_a_bad_csv_row_is_named_and_nothing_is_imported(client, make_token):
    operator = make_token("operator")
    csv = "role,name,shelter_id,email\nkeyholder,A,1,a@example.invalid\nkeyholder,B,x,b@e.invalid\n"
    refused = client.post("/v1/keyholders/import", content=csv.encode(), headers=auth(operator))
    assert refused.status_code == 422 and "line 3" in refused.json()["detail"]
    assert client.get("/v1/keyholders", headers=auth(operator)).json()["keyholders"] == []


def test_operator_creates_a_patrol_unit_whose_token_sees_its_tasks(client, make_token):
    made = client.post("/v1/patrols", json={"name": "Desna 3", "lat": 50.48, "lon": 30.63},
                       headers=auth(make_token("operator")))
    assert made.status_code == 201
    tasks = client.get("/v1/tasks", headers=auth(made.json()["token"])).json()
    assert tasks["unit"]["name"] == "Desna 3" and tasks["tasks"] == []


def test_a_forged_or_expired_check_in_link_records_nothing(client, settings):
    from datetime import timedelta

    from shelterwatch.clock import utcnow

    token = links.make_token(settings.secret_key, keyholder_id=1, shelter_id=1, now=utcnow())
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(f"/check-in/{forged}").status_code == 403
    old = links.make_token(settings.secret_key, keyholder_id=1, shelter_id=1,
                           now=utcnow() - links.LINK_TTL - timedelta(minutes=1))
    assert client.get(f"/check-in/{old}").status_code == 403


def test_a_deactivated_keyholder_is_no_longer_listed_as_active(kyiv_client, kyiv_settings,
                                                              make_token):
    from tests.reports.helpers import kyiv_shelter

    client = kyiv_client
    operator = make_token("operator")
    door = kyiv_shelter(kyiv_settings.database_url, 0)
    created = client.post("/v1/keyholders", headers=auth(operator), json={
        "name": "Petro", "shelter_ids": [door.id], "email": "petro@example.invalid"})
    assert created.status_code == 201, created.text
    keyholder_id = created.json()["id"]
    r = client.post(f"/v1/keyholders/{keyholder_id}/deactivate", headers=auth(operator))
    assert r.status_code == 200 and r.json() == {"id": keyholder_id, "active": False}
    listed = client.get("/v1/keyholders", headers=auth(operator)).json()["keyholders"]
    assert [k["active"] for k in listed if k["id"] == keyholder_id] == [False]
    assert client.post("/v1/keyholders/999/deactivate",
                       headers=auth(operator)).status_code == 404


def test_the_check_in_page_names_the_address_and_thanks_in_both_languages(
        kyiv_client, kyiv_settings):
    from sqlalchemy import select

    from shelterwatch import db
    from shelterwatch.clock import utcnow
    from shelterwatch.keyholders import service as keyholders
    from shelterwatch.shelters.models import Shelter

    with db.transaction(kyiv_settings.database_url) as s:
        shelter = s.execute(select(Shelter).order_by(Shelter.id).limit(1)).scalar_one()
        address = shelter.address
        person = keyholders.create_keyholder(s, contact=keyholders.ContactIn(
            name="k", email="k@example.invalid"), shelter_ids=[shelter.id], now=utcnow(),
            actor="test")
        token = links.make_token(kyiv_settings.secret_key, keyholder_id=person.id,
                                 shelter_id=shelter.id, now=utcnow())
    page = kyiv_client.get(f"/check-in/{token}").text
    assert address in page and "Укриття №" not in page
    done = kyiv_client.post(f"/check-in/{token}")
    assert done.status_code == 201
    assert "Дякуємо" in done.text and "Thank you" in done.text and address in done.text
    assert "Мешканців тепер скеровують сюди" in done.text and "Residents are now sent" in done.text
