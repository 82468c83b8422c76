"""Environment variables through which a worker tells the run it starts which job it is."""

JOB_ID_ENV = "STOCKML_JOB_ID"
STORE_URL_ENV = "STOCKML_STORE_URL"
