// The analysis report: one self-contained HTML page (index.html) with the
// figures embedded as PNG data, the metric tables and the provenance of every
// input, written atomically. It opens from disk in any browser, also after
// being copied elsewhere, and needs no network.
#pragma once

#include <string>
#include <vector>

namespace fluxrecon::analysis {

struct ReportTable {
  std::string id;  // HTML id (letters, digits, '-', '_'); empty = derived from the title
  std::string title;
  std::string caption;  // optional note under the title
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as the header
};

struct ReportFigure {
  std::string png_path;  // an existing PNG file
  std::string caption;
};

struct ReportSection {
  std::string title;
  std::string text;  // paragraphs separated by blank lines
  std::vector<ReportTable> tables;
  std::vector<ReportFigure> figures;
};

// One input of the analysis: a model file, a cache, a dataset, a config.
struct ProvenanceEntry {
  std::string kind;  // e.g. "model file", "cache", "dataset config"
  std::string path;
  std::string detail;  // what else is known (checksum recorded in a cache, year ...)
  // Filled by describe_input() when the file exists locally.
  std::string size;
  std::string modified;  // UTC, ISO 8601
  std::string checksum;  // "fnv1a64:<16 hex digits>"
};
// The entry for `path` with its size, modification time and checksum; a
// missing file is recorded as such (the report still says it was used).
ProvenanceEntry describe_input(const std::string& kind, const std::string& path,
                               const std::string& detail = "");

struct Report {
  std::string title;
  std::string summary;               // paragraph under the title
  std::vector<std::string> command;  // the command line that made it
  std::vector<ReportSection> sections;
  std::vector<ProvenanceEntry> provenance;
  // Figures inside the page as their PNG data (one file to mail, ~1.3x the
  // PNGs' bytes) instead of links to the PNG files beside it; figures outside
  // the page's folder are always inside.
  bool self_contained = false;
};

// Renders the page to be written into `out_dir`. Throws an Error naming the
// figure if a PNG is missing or invalid, or the table whose row length does
// not match its header.
std::string render_report(const Report& report, const std::string& out_dir);

// Writes <out_dir>/index.html atomically (rank-local) and returns its path.
std::string write_report(const std::string& out_dir, const Report& report);

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string html_escape(const std::string& text);

}  // namespace fluxrecon::analysis
