"""One router per area; each is an `APIRouter` named `router`, included by api.app.create_app."""
