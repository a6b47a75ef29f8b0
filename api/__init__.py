"""The transactions system's HTTP API (سامانهٔ جامع معاملات): FastAPI routers over services/."""
