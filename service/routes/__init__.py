"""One router per area of the HTTP API; `ROUTERS` is every one the app serves."""
from service.routes import demo, dictionaries, health, jobs, models, tagging

ROUTERS = (tagging.router, models.router, jobs.router, dictionaries.router, health.router, demo.router)
