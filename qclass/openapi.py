"""The JSON API's OpenAPI 3.1 document, served at /api/openapi.json (tests check answers against it)."""

from qclass.inference import MAX_CHARS

_RANKED = {"type": "array", "maxItems": 3, "items": {
    "type": "object", "required": ["code", "name", "confidence"], "additionalProperties": False,
    "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                   "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}}

_RESULT = {
    "type": "object", "additionalProperties": False,
    "required": ["question", "read_as", "coarse", "class", "coarse_confidence", "fine", "subclass", "fine_confidence",
                 "coarse_top", "fine_top", "guess", "guess_reason", "truncated", "model_version"],
    "properties": {
        "question": {"type": "string", "description": f"The question as sent: trimmed, cut to {MAX_CHARS:,} characters."},
        "read_as": {"type": ["string", "null"], "examples": ["What is the capital of Peru?"],
                    "description": "The question as the model read it, where mending a typo changed the answer "
                                   "(captial -> capital); else null (always null where guess is true)."},
        "coarse": {"type": "string", "examples": ["LOC"], "description": "The class's code."},
        "class": {"type": "string", "examples": ["LOCATION"]},
        "coarse_confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "fine": {"type": "string", "examples": ["LOC:city"], "description": "The subclass's code, always inside the class."},
        "subclass": {"type": "string", "examples": ["city"]},
        "fine_confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "coarse_top": {**_RANKED, "description": "The three likeliest classes, likeliest first."},
        "fine_top": {**_RANKED, "description": "The three likeliest subclasses, likeliest first."},
        "guess": {"type": "boolean", "description": "The text does not look like an English question: the answer is only a guess."},
        "guess_reason": {"type": ["string", "null"], "description": "Why it is a guess, or null."},
        "truncated": {"type": "boolean", "description": "The text was too long: the model read only its beginning."},
        "model_version": {"type": "string"},
    },
}

_ERROR = {"type": "object", "required": ["error", "message"], "properties": {
    "error": {"type": "string", "enum": [
        "invalid_json", "unauthorized", "not_found", "method_not_allowed", "body_timeout", "body_too_large",
        "unsupported_media_type", "invalid_request", "empty_question", "too_many_questions", "rate_limited",
        "busy", "closed", "model_unavailable", "internal_error", "http_error"]},
    "message": {"type": "string", "description": "What went wrong, for people."}}}


def _errors(*statuses: int) -> dict:
    why = {400: "The body is not valid UTF-8 JSON.", 401: "API_TOKEN is set and the bearer token is missing or wrong.",
           408: "The body took over 10 seconds to arrive.", 413: "The body is over 1,048,576 bytes.",
           415: "The body is not application/json.",
           422: "Valid JSON, but not one question or a list of 1 to 1,000 non-empty strings.",
           429: "Over the address's rate limit; Retry-After says when to try again.",
           503: "The model is unavailable, the server is too busy (Retry-After), or the API is closed."}
    return {str(s): {"description": why[s], "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for s in statuses}


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Question Classification API", "version": "1",
             "description": "What kind of answer an English question asks for, in the TREC taxonomy "
                            "(6 classes, 50 subclasses). Errors are JSON: {\"error\": code, \"message\": text}."},
    "servers": [{"url": "/api"}],
    "paths": {
        "/classify": {"post": {
            "summary": "Classify one question, or up to 1,000",
            "security": [{"bearer": []}, {}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/One"}, {"$ref": "#/components/schemas/Many"}]}, "examples": {
                "one": {"value": {"question": "What is the capital of Peru?"}},
                "many": {"value": {"questions": ["Who wrote Hamlet?", "How far is the Moon?"]}}}}}},
            "responses": {"200": {"description": "One result for {question}; {results: [...]} in order for {questions}.",
                                  "content": {"application/json": {"schema": {"oneOf": [
                                      {"$ref": "#/components/schemas/Result"},
                                      {"$ref": "#/components/schemas/Results"}]}}}},
                          **_errors(400, 401, 408, 413, 415, 422, 429, 503)}}},
        "/health": {"get": {"summary": "Whether the model is loaded, and its version", "responses": {
            "200": {"description": "Ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
            "503": {"description": "The model files are missing or broken.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
            **_errors(429)}}},
        "/labels": {"get": {"summary": "The taxonomy: every class and subclass, with what it means", "responses": {
            "200": {"description": "Classes, each with its subclasses.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Labels"}}}},
            **_errors(429, 503)}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1."}}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "Needed only when the server sets API_TOKEN."}},
        "schemas": {
            "One": {"type": "object", "required": ["question"], "additionalProperties": False,
                    "properties": {"question": {"type": "string", "minLength": 1}}},
            "Many": {"type": "object", "required": ["questions"], "additionalProperties": False,
                     "properties": {"questions": {"type": "array", "minItems": 1, "maxItems": 1000,
                                                  "items": {"type": "string", "minLength": 1}}}},
            "Result": _RESULT,
            "Results": {"type": "object", "required": ["results"], "additionalProperties": False,
                        "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}},
            "Error": _ERROR,
            "Health": {"type": "object", "required": ["status", "model_loaded"], "properties": {
                "status": {"type": "string", "enum": ["ok", "unavailable"]}, "model_loaded": {"type": "boolean"},
                "model_version": {"type": "string"}, "message": {"type": "string"}}},
            "Labels": {"type": "object", "required": ["model_version", "classes"], "properties": {
                "model_version": {"type": "string"},
                "classes": {"type": "array", "items": {"$ref": "#/components/schemas/Label"}}}},
            "Label": {"type": "object", "required": ["code", "name", "definition", "example"], "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}, "definition": {"type": "string"},
                "example": {"type": "string"},
                "subclasses": {"type": "array", "items": {"$ref": "#/components/schemas/Label"}}}},
        },
    },
}
