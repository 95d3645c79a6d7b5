"""Payloads several test modules upsert."""

#: An Italian person with the restricted attributes (national ID, birth date) set.
PERSON = {
    "kind": "person",
    "first_name": "Anna",
    "last_name": "Schmidt",
    "national_id": "RMNFNC52L26B758P",
    "birth_date": "1952-07-26",
    "country": "IT",
}
