def test_healthz_reports_the_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_an_agent_lands_on_the_agent_home(client, login_as):
    login_as("agent")
    response = client.get("/home", follow_redirects=True)
    assert response.status_code == 200
    assert b'data-testid="home-agent"' in response.data
