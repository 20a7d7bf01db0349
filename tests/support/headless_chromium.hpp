// Headless Chromium for the report tests: finds the browser, loads a page
// from disk, reads back the attributes the report's script sets on <html>
// (data-images, data-images-loaded, data-tables).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

namespace test_util {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// $FLUXRECON_CHROMIUM, or chromium / chromium-browser / google-chrome; "" if none.
inline std::string find_chromium() {
  if (const char* env = std::getenv("FLUXRECON_CHROMIUM")) return env;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/snap/bin"}) {
      const std::string p = std::string(dir) + "/" + name;
      if (std::filesystem::exists(p)) return p;
    }
  return "";
}

// Runs headless Chromium on `page` with `args` (e.g. --dump-dom), stdout to
// `out`, stderr appended to `log`; returns its exit status.
inline int chromium(const std::string& exe, const std::string& profile, const std::string& args,
                    const std::string& page, const std::string& out, const std::string& log) {
  const std::string cmd = "timeout 90 '" + exe +
                          "' --headless --no-sandbox --disable-gpu --no-first-run "
                          "--disable-dev-shm-usage --user-data-dir='" +
                          profile + "' --virtual-time-budget=5000 " + args + " 'file://" + page +
                          "' > '" + out + "' 2>> '" + log + "'";
  return std::system(cmd.c_str());
}

// The integer value of attribute `name` in a dumped DOM; -1 if absent.
inline int dom_attribute(const std::string& dom, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex(name + "=\"(\\d+)\""))) return -1;
  return std::stoi(m[1]);
}

}  // namespace test_util
