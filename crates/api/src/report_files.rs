//! Statistics as downloadable files: one [`ReportTable`] (built by pure
//! code from the JSON view) rendered as CSV or XLSX, so JSON, CSV and XLSX
//! say the same.
//!
//! Crates: `csv` (BurntSushi's, the ecosystem's standard CSV writer) quotes
//! fields correctly — commas, quotes and line breaks in unit or staff
//! names — which hand-written joining would get wrong; `rust_xlsxwriter`
//! (a maintained pure-Rust port of libxlsxwriter, no C or system
//! dependencies) writes real Office Open XML workbooks with typed number
//! cells, which Excel and WPS open without an import dialog.

use crate::ApiError;
use actix_web::HttpResponse;
use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use sansuo_domain::report::{COLUMNS, ReportTable, ReportValue};
use serde::Deserialize;
use utoipa::ToSchema;

pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The UTF-8 byte order mark: Excel on Windows reads a CSV without it in
/// the system's code page (GBK on a Chinese Windows) and garbles Chinese.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An XLSX workbook as the spec describes the body: a binary string. Never
/// built: the bytes go out as they are.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct XlsxFile(Vec<u8>);

/// What a statistics operation answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// The JSON view (the default).
    #[default]
    Json,
    /// UTF-8 CSV with a byte order mark, one row per figure.
    Csv,
    /// An Excel workbook with one sheet, one row per figure.
    Xlsx,
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Xlsx => "xlsx",
        }
    }
}

/// A CSV cell: integers as integers, numbers in Rust's shortest
/// round-trip form (parsing it gives back the very `f64`), nothing for no
/// figure.
fn csv_cell(value: &ReportValue) -> String {
    match value {
        ReportValue::Integer(n) => n.to_string(),
        ReportValue::Number(x) => x.to_string(),
        ReportValue::Text(s) => s.clone(),
        ReportValue::Empty => String::new(),
    }
}

/// The table as CSV: BOM, the header row, then one record per row.
pub fn to_csv(table: &ReportTable) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(BOM.to_vec());
    let fail = |e: csv::Error| ApiError::internal(format!("writing the CSV failed: {e}"));
    writer.write_record(COLUMNS).map_err(fail)?;
    for row in &table.rows {
        writer
            .write_record([
                row.section.as_str(),
                row.item.as_str(),
                csv_cell(&row.value).as_str(),
                row.field.as_str(),
            ])
            .map_err(fail)?;
    }
    writer
        .into_inner()
        .map_err(|e| ApiError::internal(format!("writing the CSV failed: {e}")))
}

/// The table as an XLSX workbook: one sheet, a bold header row, numbers
/// as number cells (integers are exact in an `f64` up to 2^53).
pub fn to_xlsx(table: &ReportTable) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| {
        ApiError::internal(format!("writing the workbook failed: {e}"))
    };
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let name: String = table.title.chars().take(31).collect();
    sheet.set_name(name).map_err(fail)?;
    let bold = Format::new().set_bold();
    for (col, heading) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *heading, &bold)
            .map_err(fail)?;
    }
    for (col, width) in [14.0, 36.0, 16.0, 48.0].into_iter().enumerate() {
        sheet.set_column_width(col as u16, width).map_err(fail)?;
    }
    for (i, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| ApiError::internal("too many rows"))?;
        sheet.write_string(r, 0, &row.section).map_err(fail)?;
        sheet.write_string(r, 1, &row.item).map_err(fail)?;
        match &row.value {
            ReportValue::Integer(n) => {
                sheet.write_number(r, 2, *n as f64).map_err(fail)?;
            }
            ReportValue::Number(x) => {
                sheet.write_number(r, 2, *x).map_err(fail)?;
            }
            ReportValue::Text(s) => {
                sheet.write_string(r, 2, s).map_err(fail)?;
            }
            ReportValue::Empty => {}
        }
        if !row.field.is_empty() {
            sheet.write_string(r, 3, &row.field).map_err(fail)?;
        }
    }
    workbook.save_to_buffer().map_err(fail)
}

/// `Content-Disposition: attachment` with an ASCII `filename` for old
/// clients and the real (Chinese) name as RFC 5987 `filename*`.
fn attachment(ascii_name: &str, utf8_name: &str) -> ContentDisposition {
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii_name.to_owned()),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: utf8_name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// The table as a download in `format` (CSV or XLSX). `ascii_stem` and
/// `utf8_stem` are the file name without its extension.
pub fn download(
    table: &ReportTable,
    format: ReportFormat,
    ascii_stem: &str,
    utf8_stem: &str,
) -> Result<HttpResponse, ApiError> {
    let (body, content_type) = match format {
        ReportFormat::Csv => (to_csv(table)?, CSV_CONTENT_TYPE),
        ReportFormat::Xlsx => (to_xlsx(table)?, XLSX_CONTENT_TYPE),
        ReportFormat::Json => return Err(ApiError::internal("JSON is not a file download")),
    };
    let ext = format.extension();
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(attachment(
            &format!("{ascii_stem}.{ext}"),
            &format!("{utf8_stem}.{ext}"),
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> ReportTable {
        let mut t = ReportTable::new("统计报表");
        t.push("总体", "案件总数", "cases", 3u64);
        t.push("总体", "成功率", "success_rate", Some(1.0 / 3.0));
        t.push("满意度", "平均星级", "average_stars", None::<f64>);
        t.push("报表信息", "单位", "", "新港居委, \"东\"".to_owned());
        t
    }

    #[test]
    fn the_csv_starts_with_a_bom_and_round_trips_every_figure() {
        let bytes = to_csv(&table()).unwrap();
        assert!(bytes.starts_with(BOM));
        let mut reader = csv::Reader::from_reader(&bytes[BOM.len()..]);
        assert_eq!(reader.headers().unwrap(), COLUMNS.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][2], "3");
        assert_eq!(rows[1][2].parse::<f64>().unwrap(), 1.0 / 3.0);
        assert_eq!(&rows[2][2], "");
        assert_eq!(&rows[3][2], "新港居委, \"东\"");
    }

    #[test]
    fn the_workbook_is_a_zip() {
        let bytes = to_xlsx(&table()).unwrap();
        assert!(bytes.starts_with(b"PK"));
    }

    #[test]
    fn the_file_name_has_an_ascii_fallback_and_the_chinese_name() {
        let header = attachment("sansuo-stats-2026-11.csv", "统计报表-2026-11.csv").to_string();
        assert!(
            header.starts_with("attachment; filename=\"sansuo-stats-2026-11.csv\""),
            "{header}"
        );
        assert!(
            header
                .contains("filename*=UTF-8''%E7%BB%9F%E8%AE%A1%E6%8A%A5%E8%A1%A8%2D2026%2D11.csv"),
            "{header}"
        );
    }
}
