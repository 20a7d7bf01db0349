#include "analysis/report.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/checksum.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "plot/png_info.hpp"

namespace fluxrecon::analysis {
namespace {

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  FR_REQUIRE(in.good(), "report: cannot read figure '", path, "'");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string utc_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// An HTML id from `text`: letters and digits kept, the rest '-'; unique.
std::string make_id(const std::string& text, std::set<std::string>& used) {
  std::string id;
  for (char c : text)
    id += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  if (id.empty() || !std::isalpha(static_cast<unsigned char>(id[0]))) id = "t-" + id;
  std::string unique = id;
  for (int n = 2; used.count(unique); ++n) unique = id + "-" + std::to_string(n);
  used.insert(unique);
  return unique;
}

void paragraphs(std::ostringstream& out, const std::string& text) {
  std::istringstream in(text);
  std::string line, para;
  auto flush = [&] {
    if (!para.empty()) out << "<p>" << html_escape(para) << "</p>\n";
    para.clear();
  };
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos)
      flush();
    else
      para += (para.empty() ? "" : " ") + line;
  }
  flush();
}

void table(std::ostringstream& out, const ReportTable& t, std::set<std::string>& ids) {
  FR_REQUIRE(!t.header.empty(), "report: table '", t.title, "' has no header");
  for (std::size_t r = 0; r < t.rows.size(); ++r)
    FR_REQUIRE(t.rows[r].size() == t.header.size(), "report: table '", t.title, "' row ", r + 1,
               " has ", t.rows[r].size(), " cells for ", t.header.size(), " columns");
  const std::string id = make_id(t.id.empty() ? t.title : t.id, ids);
  out << "<h3>" << html_escape(t.title) << "</h3>\n";
  if (!t.caption.empty()) out << "<p class=\"note\">" << html_escape(t.caption) << "</p>\n";
  out << "<table id=\"" << id << "\">\n<thead><tr>";
  for (const auto& h : t.header) out << "<th>" << html_escape(h) << "</th>";
  out << "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out << "<tr>";
    for (const auto& cell : row) out << "<td>" << html_escape(cell) << "</td>";
    out << "</tr>\n";
  }
  out << "</tbody>\n</table>\n";
}

// The figure's address in a page written into `out_dir`: a relative link when
// it lies inside that folder, else (or when asked) its data.
std::string image_source(const ReportFigure& f, const std::string& out_dir, bool self_contained) {
  namespace fs = std::filesystem;
  if (!self_contained) {
    std::error_code ec;
    const auto rel =
        fs::weakly_canonical(f.png_path, ec).lexically_relative(fs::weakly_canonical(out_dir, ec));
    if (!ec && !rel.empty() && *rel.begin() != "..") {
      std::string link;  // percent-encoded where a URL needs it
      for (const unsigned char c : rel.generic_string()) {
        if (std::isalnum(c) || std::strchr("-._~/", c)) {
          link += static_cast<char>(c);
        } else {
          char hex[4];
          std::snprintf(hex, sizeof hex, "%%%02X", c);
          link += hex;
        }
      }
      return link;
    }
  }
  return "data:image/png;base64," + base64(read_bytes(f.png_path));
}

void figure(std::ostringstream& out, const ReportFigure& f, const std::string& out_dir,
            bool self_contained) {
  const plot::PngInfo info = plot::read_png_info(f.png_path);  // throws naming the file
  const std::string name = std::filesystem::path(f.png_path).filename().string();
  out << "<figure><img src=\"" << html_escape(image_source(f, out_dir, self_contained))
      << "\" width=\"" << info.width << "\" height=\"" << info.height << "\" alt=\""
      << html_escape(f.caption.empty() ? name : f.caption) << "\" title=\"" << html_escape(name)
      << "\"><figcaption>" << html_escape(f.caption) << " <span class=\"file\">("
      << html_escape(name) << ")</span></figcaption></figure>\n";
}

constexpr const char* kStyle =
    R"(body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1300px;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.92em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}th{background:#eef}
td:first-child,th:first-child{text-align:left}tbody tr:nth-child(even){background:#f7f7f7}
figure{margin:1em 0 2em}img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444}.file,.note,.meta{color:#666;font-size:.9em}
.broken{color:#b00;font-weight:bold}code{background:#f3f3f3;padding:0 .2em}
)";

// After loading, marks every figure that failed to display (a reader sees a
// message instead of an empty frame) and records the counts on <html>, where
// a headless browser test reads them.
constexpr const char* kImageCheck = R"(<script>
window.addEventListener('load', function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; ++i) {
    if (images[i].complete && images[i].naturalWidth > 0) { ++loaded; continue; }
    var note = document.createElement('p');
    note.className = 'broken';
    note.textContent = 'This figure could not be displayed.';
    images[i].parentNode.insertBefore(note, images[i].nextSibling);
  }
  var root = document.documentElement;
  root.setAttribute('data-images', String(images.length));
  root.setAttribute('data-images-loaded', String(loaded));
  root.setAttribute('data-tables', String(document.getElementsByTagName('table').length));
});
</script>
)";

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  return out;
}

ProvenanceEntry describe_input(const std::string& kind, const std::string& path,
                               const std::string& detail) {
  ProvenanceEntry e{kind, path, detail, "", "", ""};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    e.size = "missing";
    return e;
  }
  if (S_ISREG(st.st_mode)) {
    e.size = log::bytes(static_cast<double>(st.st_size));
    e.checksum = file_checksum(path);
  } else {
    e.size = S_ISDIR(st.st_mode) ? "directory" : "not a regular file";
  }
  e.modified = utc_time(st.st_mtime);
  return e;
}

std::string render_report(const Report& report, const std::string& out_dir) {
  std::ostringstream out;
  std::set<std::string> ids;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"generator\" content=\"fluxrecon " << FLUXRECON_VERSION << "\">\n"
      << "<title>" << html_escape(report.title) << "</title>\n<style>\n"
      << kStyle << "</style>\n"
      << kImageCheck << "</head>\n<body>\n";
  out << "<h1>" << html_escape(report.title) << "</h1>\n";
  std::string command;
  for (const auto& a : report.command) command += (command.empty() ? "" : " ") + a;
  out << "<p class=\"meta\">Written " << utc_time(std::time(nullptr)) << " by fluxrecon "
      << FLUXRECON_VERSION;
  if (!command.empty()) out << " &middot; <code>" << html_escape(command) << "</code>";
  out << "</p>\n";
  paragraphs(out, report.summary);

  std::vector<std::string> section_ids;
  for (const auto& s : report.sections) section_ids.push_back(make_id("s-" + s.title, ids));
  const std::string provenance_id = make_id("provenance", ids);
  out << "<nav><ul>\n";
  for (std::size_t i = 0; i < report.sections.size(); ++i)
    out << "<li><a href=\"#" << section_ids[i] << "\">" << html_escape(report.sections[i].title)
        << "</a></li>\n";
  out << "<li><a href=\"#" << provenance_id << "\">Provenance of the inputs</a></li>\n";
  out << "</ul></nav>\n";

  for (std::size_t i = 0; i < report.sections.size(); ++i) {
    const ReportSection& s = report.sections[i];
    out << "<section>\n<h2 id=\"" << section_ids[i] << "\">" << html_escape(s.title) << "</h2>\n";
    paragraphs(out, s.text);
    for (const auto& t : s.tables) table(out, t, ids);
    for (const auto& f : s.figures) figure(out, f, out_dir, report.self_contained);
    out << "</section>\n";
  }

  ReportTable prov;
  prov.id = "provenance-table";
  prov.title = "Inputs";
  prov.header = {"Kind", "Path", "Size", "Modified (UTC)", "Checksum", "Detail"};
  for (const auto& p : report.provenance)
    prov.rows.push_back({p.kind, p.path, p.size, p.modified, p.checksum, p.detail});
  out << "<section>\n<h2 id=\"" << provenance_id << "\">Provenance of the inputs</h2>\n";
  if (report.provenance.empty())
    out << "<p>No inputs were recorded.</p>\n";
  else
    table(out, prov, ids);
  out << "</section>\n</body>\n</html>\n";
  return out.str();
}

std::string write_report(const std::string& out_dir, const Report& report) {
  const std::string path = (std::filesystem::path(out_dir) / "index.html").string();
  write_text_atomically(path, render_report(report, out_dir));
  return path;
}

}  // namespace fluxrecon::analysis
