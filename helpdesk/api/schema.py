"""OpenAPI post-processing: every operation documents the one error shape the API answers with."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
        }
    },
}
ERRORS = {
    "400": "Invalid input or a move the rules refuse (field messages in error.fields)",
    "401": "Not authenticated",
    "403": "Your role does not allow this",
    "404": "Not found (ids of another tenant are never found)",
    "409": "The complaint changed since the version you sent",
    "429": "Too many requests",
    "503": "The reporting database is unavailable (reports only)",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            for code, description in ERRORS.items():
                if code == "503" and "/reports/" not in path:
                    continue
                operation.setdefault("responses", {}).setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
