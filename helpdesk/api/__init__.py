"""The REST API's plumbing shared by the apps: tokens, the one error shape, parsing, role permissions, shared output
serializers, the schema's error responses and the URL map. The endpoints themselves live in each app's `api.py`."""
