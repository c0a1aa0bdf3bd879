from django.test import Client


def test_login_with_the_tenants_own_user_lands_on_the_complaint_list(alpha, password):
    client = Client(HTTP_HOST=alpha.domain)
    response = client.post("/login/", {"username": "alice", "password": password})
    assert response.status_code == 302 and response["Location"] == "/complaints/"


def test_wrong_credentials_get_a_clear_message(alpha):
    response = Client(HTTP_HOST=alpha.domain).post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Wrong username or password." in response.content


def test_a_user_of_another_tenant_cannot_log_in_here(alpha, beta, password):
    response = Client(HTTP_HOST=alpha.domain).post("/login/", {"username": "charlie", "password": password})
    assert b"Wrong username or password." in response.content


def test_repeated_failures_lock_the_client_out_even_with_the_right_password(alpha, password):
    client = Client(HTTP_HOST=alpha.domain)
    for _ in range(5):
        client.post("/login/", {"username": "bob", "password": "wrong"})
    response = client.post("/login/", {"username": "bob", "password": password})
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content


def test_logout_is_a_post(client_for, alpha):
    client = client_for(alpha, alpha.alice)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/complaints/").status_code == 302


def test_forms_are_csrf_protected(alpha, password):
    client = Client(HTTP_HOST=alpha.domain, enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "alice", "password": password}).status_code == 403
