from django.db import connection


def test_health_answers_anonymously(client, db):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
