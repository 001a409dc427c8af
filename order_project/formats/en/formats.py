"""How the admin shows dates and times (FORMAT_MODULE_PATH): every timestamp with seconds and its time
zone, "2026-12-01 10:31:09 UTC", whichever page or column shows it. The API has its own formats
(REST_FRAMEWORK["DATETIME_FORMAT"])."""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = DATE_FORMAT
