"""Awkward real-world import files: encodings, delimiters, line breaks, Excel sheets
with titles, merged cells and formulas, damaged and hostile workbooks, and errors
files that are safe to open and can be fixed and imported again."""

import csv
import re
import shutil
import zipfile

import pytest
from django.core.management import CommandError
from openpyxl import Workbook, load_workbook

from golden.models import SourceRecord, SourceSystem

from .test_commands import _file_error, import_file


def canonical(key, attribute):
    return SourceRecord.objects.get(source_key=key).canonical.get(attribute)


def test_gbk_file_is_detected_without_being_told(db, tmp_path):
    path = tmp_path / "suppliers-gbk.csv"
    path.write_bytes(
        "source_key,legal_name,city,country\n"
        "V1,北京华信科技有限公司,北京,CN\n"
        "V2,上海浦东发展银行股份有限公司,上海,CN\n"
        "V3,深圳市腾讯计算机系统有限公司,深圳,CN\n".encode("gbk")
    )

    output = import_file(path, "supplier", "ERP", "--create-system")

    assert "3 read, 3 created" in output
    assert canonical("V2", "legal_name") == "上海浦东发展银行股份有限公司"
    assert canonical("V3", "city") == "深圳"


def test_bom_crlf_semicolons_and_quoted_line_breaks(db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "\ufeffsource_key;organization_name;address_line1;country\r\n"
        '1;"Acme; Sons GmbH";"Hauptstr. 1\r\nHinterhaus";DE\r\n'
        '2;"Bolt ""The Fast"" Ltd";1 Main St;GB\r\n'.encode()
    )

    output = import_file(path, "customer", "ERP", "--create-system")

    assert "2 read, 2 created" in output
    assert canonical("1", "organization_name") == "Acme; Sons GmbH"
    raw = SourceRecord.objects.get(source_key="1").raw_payload["address_line1"]
    assert raw.splitlines() == ["Hauptstr. 1", "Hinterhaus"]
    assert canonical("2", "organization_name") == 'Bolt "The Fast" Ltd'


def test_an_explicit_delimiter_wins(db, tmp_path):
    path = tmp_path / "pipes.csv"
    path.write_text("source_key|organization_name\n1|Acme, Inc.\n")

    import_file(path, "customer", "ERP", "--create-system", "--delimiter", "|")

    assert canonical("1", "organization_name") == "Acme, Inc."


def _with_cached_values(path, values):
    """Give formula cells the values a spreadsheet program would have saved."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for cell, value in values.items():
        opening = rf'<c r="{cell}"([^>]*)>(<f>.*?</f>)<v\s*/>'
        sheet = re.sub(opening, rf'<c r="{cell}"\1 t="str">\2<v>{value}</v>', sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.fixture
def workbook(tmp_path):
    """A supplier sheet as people keep them: a merged title banner, a blank row, the
    header, numeric keys, a date, formulas with saved values and one without."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Suppliers"
    sheet.append(["Supplier master — export 2026"])
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["source_key", "legal_name", "country", "payment_terms", "trade_name"])
    sheet.append([1000123, "Acme GmbH", "DE", "NET30", None])
    sheet.append([1000124, "Bolt Ltd", "GB", '="NET"&(15*2)', "=B5"])
    sheet.append([1000125, "Chen Trading", "CN", "=D4", None])
    path = tmp_path / "suppliers.xlsx"
    book.save(path)
    _with_cached_values(path, {"D5": "NET30", "E5": "Bolt Ltd"})  # D6 never computed
    return path


def test_excel_sheet_with_title_rows_formulas_and_numeric_keys(db, workbook, tmp_path):
    errors = tmp_path / "errors.xlsx"
    output = import_file(
        workbook, "supplier", "ERP", "--create-system", "--errors-out", str(errors)
    )

    assert "3 read, 2 created" in output and "1 rejected" in output
    # Keys typed as numbers are codes, not 1000123.0.
    assert canonical("1000123", "legal_name") == "Acme GmbH"
    # Formulas read as the values the spreadsheet computed, never as formulas.
    assert canonical("1000124", "payment_terms") == "NET30"
    assert canonical("1000124", "trade_name") == "Bolt Ltd"
    # A formula without a computed value is reported for its row, not loaded as empty.
    rows = list(load_workbook(errors, read_only=True).active.iter_rows(values_only=True))
    header, rejected = rows[0], dict(zip(rows[0], rows[1], strict=False))
    assert header[:4] == ("row_number", "error_column", "error_value", "error_reason")
    assert rejected["row_number"] == 6
    assert rejected["error_column"] == "payment_terms"
    assert rejected["error_value"] == "'=D4"  # escaped: a spreadsheet shows, never runs it
    assert "formula without a computed value" in rejected["error_reason"]


def test_fixed_excel_errors_file_imports_the_rejected_rows(db, workbook, tmp_path):
    errors = tmp_path / "errors.xlsx"
    import_file(workbook, "supplier", "ERP", "--create-system", "--errors-out", str(errors))
    book = load_workbook(errors)
    sheet = book.active
    column = [cell.value for cell in sheet[1]].index("payment_terms") + 1
    sheet.cell(row=2, column=column, value="NET45")
    book.save(errors)

    output = import_file(errors, "supplier", "ERP", "--errors-out", str(tmp_path / "e2.xlsx"))

    assert "1 read, 1 created" in output
    assert canonical("1000125", "payment_terms") == "NET45"


def test_choosing_a_sheet(db, tmp_path):
    book = Workbook()
    book.active.append(["notes"])
    second = book.create_sheet("Customers")
    second.append(["source_key", "organization_name"])
    second.append(["C1", "Acme"])
    path = tmp_path / "two.xlsx"
    book.save(path)

    assert "no header row naming the key column" in _file_error(path)
    assert "no sheet 'Clients'" in _file_error(path, "--sheet", "Clients")
    assert "1 read, 1 created" in import_file(path, "customer", "ERP", "--sheet", "Customers")


def test_value_under_a_column_without_header_is_a_row_error(db, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["source_key", "organization_name", None])
    sheet.append(["C1", "Acme", None])
    sheet.append(["C2", "Bolt", "stray"])
    path = tmp_path / "stray.xlsx"
    book.save(path)
    errors = tmp_path / "errors.xlsx"

    output = import_file(path, "customer", "ERP", "--create-system", "--errors-out", str(errors))

    assert "2 read, 1 created" in output and "1 rejected" in output
    rows = list(load_workbook(errors, read_only=True).active.iter_rows(values_only=True))
    assert rows[1][:4] == (3, "C", "stray", rows[1][3])
    assert "without a header" in rows[1][3]


def test_truncated_workbook_is_refused_in_one_line(db, workbook, tmp_path):
    truncated = tmp_path / "truncated.xlsx"
    data = workbook.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])

    message = _file_error(truncated)

    assert "damaged or truncated" in message


def test_decompression_bomb_is_refused(db, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (300 * 1024**2) + b"/>")

    message = _file_error(path)

    assert "decompression bomb" in message


def test_other_files_named_like_imports_are_refused(db, tmp_path, workbook):
    old = tmp_path / "legacy.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    assert "binary .xls format is not read" in _file_error(old)
    disguised = tmp_path / "workbook.csv"
    shutil.copy(workbook, disguised)
    assert "not CSV (name an Excel file .xlsx)" in _file_error(disguised)
    not_zip = tmp_path / "fake.xlsx"
    not_zip.write_text("source_key,name\n1,x\n")
    assert "not an .xlsx workbook" in _file_error(not_zip)


def test_size_limit(db, tmp_path, settings):
    settings.MDM_IMPORT_MAX_BYTES = 100
    path = tmp_path / "big.csv"
    path.write_text("source_key,organization_name\n" + "1,Acme\n" * 50)

    assert "over the import limit" in _file_error(path)


def test_formula_injection_is_escaped_in_errors_files_and_read_back(db, tmp_path):
    path = tmp_path / "hostile.csv"
    payload = '=HYPERLINK("http://127.0.0.1/x","click")'
    path.write_text(
        "source_key,organization_name,email\n"
        f'1,"{payload.replace(chr(34), chr(34) * 2)}",not-an-address\n'
        "2,,@SUM(1+1)\n"
    )
    errors = tmp_path / "errors.csv"

    output = import_file(path, "customer", "ERP", "--create-system", "--errors-out", str(errors))

    assert "1 rejected" in output  # row 2: no name
    with errors.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0] == "3"
    for cell in rows[1][1:]:
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert "'@SUM(1+1)" in rows[1]
    # The stored value is the text as given; the service never evaluates it.
    assert canonical("1", "organization_name") == payload
    # Fixed and imported again, the escaped cell is read back as it was.
    rows[1][rows[0].index("organization_name")] = "Fixed AG"
    with errors.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    import_file(errors, "customer", "ERP", "--errors-out", str(tmp_path / "e2.csv"))
    assert SourceRecord.objects.get(source_key="2").raw_payload["email"] == "@SUM(1+1)"


def test_command_error_for_unknown_format(db, tmp_path):
    SourceSystem.objects.create(code="ERP", name="ERP")
    path = tmp_path / "x.csv"
    path.write_text("source_key,organization_name\n1,A\n")
    with pytest.raises(CommandError):
        import_file(path, "customer", "ERP", "--format", "parquet")
