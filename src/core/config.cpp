#include "core/config.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"

namespace fluxrecon::config {

enum class Kind {
  flag,
  integer,
  real,
  text,
  integers,
  reals,
  texts,
  section,
  map_of,
  list_of,
  custom
};

struct Schema::Entry {
  std::string key;
  Kind kind;
  std::string doc;
  bool required = false;
  YAML::Node default_value;  // for scalars and lists (null if required)
  double min = -Schema::inf, max = Schema::inf;
  std::vector<std::string> allowed;
  size_t length = 0, min_length = 0;
  std::shared_ptr<Schema> child;  // section, map_of, list_of
  std::string type_name;          // custom
  Normaliser normalise;
};

namespace {

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string path_join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string kind_name(const Schema::Entry& e) {
  switch (e.kind) {
    case Kind::flag:
      return "boolean";
    case Kind::integer:
      return "integer";
    case Kind::real:
      return "number";
    case Kind::text:
      return "string";
    case Kind::integers:
      return "list of integers";
    case Kind::reals:
      return "list of numbers";
    case Kind::texts:
      return "list of strings";
    case Kind::section:
      return "block";
    case Kind::map_of:
      return "map of named blocks";
    case Kind::list_of:
      return "list of blocks";
    case Kind::custom:
      return e.type_name;
  }
  return "?";
}

std::string bounds_text(const Schema::Entry& e) {
  if (!e.allowed.empty()) return "one of: " + join(e.allowed);
  const bool lo = e.min > -Schema::inf && e.min > static_cast<double>(Schema::int_min);
  const bool hi = e.max < Schema::inf && e.max < static_cast<double>(Schema::int_max);
  if (lo && hi) return "[" + log::number(e.min) + ", " + log::number(e.max) + "]";
  if (lo) return ">= " + log::number(e.min);
  if (hi) return "<= " + log::number(e.max);
  return "";
}

class Validator {
 public:
  explicit Validator(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& key_path, const std::string& what) const {
    FR_FAIL(origin_, ": key '", key_path, "': ", what);
  }

  // A custom normaliser names the key; the file is added here.
  YAML::Node custom(const Schema::Entry& e, const YAML::Node& n, const std::string& path) const {
    try {
      return e.normalise(n, path);
    } catch (const Error& error) {
      FR_FAIL(origin_, ": ", error.what());
    }
  }

  bool parse_bool(const YAML::Node& n, const std::string& path) const {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
      fail(path, "expected true or false, got '" + describe(n) + "'");
    return v;
  }
  long long parse_int(const YAML::Node& n, const std::string& path, const Schema::Entry& e) const {
    long long v = 0;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v))
      fail(path, "expected an integer, got '" + describe(n) + "'");
    if (static_cast<double>(v) < e.min || static_cast<double>(v) > e.max)
      fail(path, "value " + std::to_string(v) + " is out of range " + bounds_text(e));
    return v;
  }
  double parse_real(const YAML::Node& n, const std::string& path, const Schema::Entry& e) const {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v))
      fail(path, "expected a number, got '" + describe(n) + "'");
    if (!(v >= e.min && v <= e.max))
      fail(path, "value " + n.Scalar() + " is out of range " + bounds_text(e));
    return v;
  }
  std::string parse_text(const YAML::Node& n, const std::string& path,
                         const Schema::Entry& e) const {
    if (!n.IsScalar())
      fail(path, "expected a string, got a " + std::string(n.IsMap() ? "block" : "list"));
    const std::string v = n.Scalar();
    if (!e.allowed.empty() && std::find(e.allowed.begin(), e.allowed.end(), v) == e.allowed.end())
      fail(path, "value '" + v + "' is not allowed; expected one of: " + join(e.allowed));
    return v;
  }

  static std::string describe(const YAML::Node& n) {
    if (n.IsScalar()) return n.Scalar();
    if (n.IsMap()) return "<block>";
    if (n.IsSequence()) return "<list>";
    return "<empty>";
  }

  YAML::Node list(const YAML::Node& n, const std::string& path, const Schema::Entry& e) const {
    if (!n.IsSequence()) fail(path, "expected a " + kind_name(e) + ", got '" + describe(n) + "'");
    if (e.length && n.size() != e.length)
      fail(path, "expected exactly " + std::to_string(e.length) + " values, got " +
                     std::to_string(n.size()));
    if (n.size() < e.min_length)
      fail(path, "expected at least " + std::to_string(e.min_length) + " values, got " +
                     std::to_string(n.size()));
    YAML::Node out(YAML::NodeType::Sequence);
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string item = path + "[" + std::to_string(i) + "]";
      if (e.kind == Kind::integers)
        out.push_back(parse_int(n[i], item, e));
      else if (e.kind == Kind::reals)
        out.push_back(parse_real(n[i], item, e));
      else
        out.push_back(parse_text(n[i], item, e));
    }
    return out;
  }

  YAML::Node entry(const Schema::Entry& e, const YAML::Node& given, const std::string& path) const {
    const bool present = given.IsDefined() && !given.IsNull();
    if (!present && e.kind == Kind::section)
      return block(*e.child, YAML::Node(YAML::NodeType::Map), path, e.required);
    if (!present && (e.kind == Kind::map_of || e.kind == Kind::list_of)) {
      if (e.required || e.min_length > 0) fail(path, "is required (" + e.doc + ")");
      return YAML::Node(e.kind == Kind::map_of ? YAML::NodeType::Map : YAML::NodeType::Sequence);
    }
    if (!present) {
      if (e.required) fail(path, "is required (" + e.doc + ")");
      if (e.kind == Kind::custom) return custom(e, YAML::Clone(e.default_value), path);
      return YAML::Clone(e.default_value);
    }
    switch (e.kind) {
      case Kind::flag:
        return YAML::Node(parse_bool(given, path));
      case Kind::integer:
        return YAML::Node(parse_int(given, path, e));
      case Kind::real:
        return YAML::Node(parse_real(given, path, e));
      case Kind::text:
        return YAML::Node(parse_text(given, path, e));
      case Kind::integers:
      case Kind::reals:
      case Kind::texts:
        return list(given, path, e);
      case Kind::section:
        return block(*e.child, given, path, false);
      case Kind::map_of: {
        if (!given.IsMap()) fail(path, "expected a block of named entries");
        if (given.size() < e.min_length)
          fail(path, "expected at least " + std::to_string(e.min_length) + " entries");
        YAML::Node out(YAML::NodeType::Map);
        for (const auto& kv : given) {
          if (!kv.first.IsScalar()) fail(path, "expected names as keys, got a list or a block");
          const std::string name = kv.first.as<std::string>();
          out[name] = block(*e.child, kv.second, path_join(path, name), false);
        }
        return out;
      }
      case Kind::list_of: {
        if (!given.IsSequence()) fail(path, "expected a list of blocks");
        if (given.size() < e.min_length)
          fail(path, "expected at least " + std::to_string(e.min_length) + " entries");
        YAML::Node out(YAML::NodeType::Sequence);
        for (size_t i = 0; i < given.size(); ++i)
          out.push_back(block(*e.child, given[i], path + "[" + std::to_string(i) + "]", false));
        return out;
      }
      case Kind::custom:
        return custom(e, given, path);
    }
    return {};
  }

  YAML::Node block(const Schema& schema, const YAML::Node& given, const std::string& path,
                   bool required) const {
    if (!given.IsDefined() || given.IsNull()) {
      if (required) fail(path, "is required");
    } else if (!given.IsMap()) {
      fail(path.empty() ? "<top level>" : path,
           "expected a block of keys, got '" + describe(given) + "'");
    }
    // Unknown keys first: a typo must never be silently ignored.
    if (given.IsMap()) {
      std::vector<std::string> seen;
      for (const auto& kv : given) {
        if (!kv.first.IsScalar())
          fail(path.empty() ? "<top level>" : path,
               "expected names as keys, got a list or a block");
        const std::string key = kv.first.as<std::string>();
        // yaml-cpp keeps the first of two equal keys; a repeated key is a mistake.
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
          fail(path_join(path, key), "is given twice");
        seen.push_back(key);
        bool known = false;
        for (const auto& e : schema.entries()) known = known || e->key == key;
        if (!known) {
          std::vector<std::string> names;
          for (const auto& e : schema.entries()) names.push_back(e->key);
          fail(path_join(path, key), "unknown key; allowed keys here: " + join(names));
        }
      }
    }
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& e : schema.entries()) {
      const YAML::Node value = given.IsMap() ? given[e->key] : YAML::Node();
      out[e->key] = entry(*e, value, path_join(path, e->key));
    }
    return out;
  }

 private:
  std::string origin_;
};

}  // namespace

namespace {
std::shared_ptr<Schema::Entry> make_entry(const std::string& key, Kind kind,
                                          const std::string& doc) {
  auto e = std::make_shared<Schema::Entry>();
  e->key = key;
  e->kind = kind;
  e->doc = doc;
  return e;
}
}  // namespace

std::vector<std::string> Schema::keys() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e->key);
  return out;
}

Schema& Schema::add(std::shared_ptr<Entry> entry) {
  for (const auto& e : entries_)
    if (e->key == entry->key) FR_FAIL("configuration key '", entry->key, "' declared twice");
  entries_.push_back(std::move(entry));
  return *this;
}

Schema& Schema::flag(const std::string& key, std::optional<bool> def, const std::string& doc) {
  auto e = make_entry(key, Kind::flag, doc);
  e->required = !def;
  if (def) e->default_value = YAML::Node(*def);
  return add(e);
}

Schema& Schema::integer(const std::string& key, std::optional<long long> def, long long min,
                        long long max, const std::string& doc) {
  auto e = make_entry(key, Kind::integer, doc);
  e->required = !def;
  if (def) e->default_value = YAML::Node(*def);
  e->min = static_cast<double>(min);
  e->max = static_cast<double>(max);
  return add(e);
}

Schema& Schema::real(const std::string& key, std::optional<double> def, double min, double max,
                     const std::string& doc) {
  auto e = make_entry(key, Kind::real, doc);
  e->required = !def;
  if (def) e->default_value = YAML::Node(*def);
  e->min = min;
  e->max = max;
  return add(e);
}

Schema& Schema::text(const std::string& key, std::optional<std::string> def,
                     std::vector<std::string> allowed, const std::string& doc) {
  auto e = make_entry(key, Kind::text, doc);
  e->required = !def;
  if (def) e->default_value = YAML::Node(*def);
  e->allowed = std::move(allowed);
  return add(e);
}

Schema& Schema::integers(const std::string& key, std::optional<std::vector<long long>> def,
                         long long min, long long max, const std::string& doc, size_t length,
                         size_t min_length) {
  auto e = make_entry(key, Kind::integers, doc);
  e->required = !def;
  if (def) e->default_value = YAML::Node(*def);
  e->min = static_cast<double>(min);
  e->max = static_cast<double>(max);
  e->length = length;
  e->min_length = min_length;
  return add(e);
}

Schema& Schema::reals(const std::string& key, std::optional<std::vector<double>> def, double min,
                      double max, const std::string& doc, size_t length, size_t min_length) {
  auto e = make_entry(key, Kind::reals, doc);
  e->required = !def;
  if (def) e->default_value = YAML::Node(*def);
  e->min = min;
  e->max = max;
  e->length = length;
  e->min_length = min_length;
  return add(e);
}

Schema& Schema::texts(const std::string& key, std::optional<std::vector<std::string>> def,
                      std::vector<std::string> allowed, const std::string& doc, size_t min_length) {
  auto e = make_entry(key, Kind::texts, doc);
  e->required = !def;
  if (def) e->default_value = YAML::Node(*def);
  e->allowed = std::move(allowed);
  e->min_length = min_length;
  return add(e);
}

Schema& Schema::section(const std::string& key, Schema keys, const std::string& doc,
                        bool required) {
  auto e = make_entry(key, Kind::section, doc);
  e->required = required;
  e->child = std::make_shared<Schema>(std::move(keys));
  return add(e);
}

Schema& Schema::map_of(const std::string& key, Schema entry, const std::string& doc,
                       size_t min_entries) {
  auto e = make_entry(key, Kind::map_of, doc);
  e->child = std::make_shared<Schema>(std::move(entry));
  e->min_length = min_entries;
  return add(e);
}

Schema& Schema::list_of(const std::string& key, Schema item, const std::string& doc,
                        std::optional<size_t> min_items) {
  auto e = make_entry(key, Kind::list_of, doc);
  e->child = std::make_shared<Schema>(std::move(item));
  e->min_length = min_items.value_or(0);
  return add(e);
}

Schema& Schema::custom(const std::string& key, YAML::Node def, const std::string& type_name,
                       Normaliser normalise, const std::string& doc) {
  auto e = make_entry(key, Kind::custom, doc);
  e->required = !def.IsDefined() || def.IsNull();
  e->default_value = def;
  e->type_name = type_name;
  e->normalise = std::move(normalise);
  return add(e);
}

Config Config::load(const std::string& path, const Schema& schema) {
  std::ifstream in(path);
  FR_REQUIRE(in.good(), "cannot read configuration file '", path,
             "': no such file or not readable");
  std::stringstream text;
  text << in.rdbuf();
  return from_text(text.str(), schema, path);
}

Config Config::from_text(const std::string& yaml_text, const Schema& schema,
                         const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    FR_FAIL(origin, ": not valid YAML: ", e.what());
  }
  return from_yaml(root, schema, origin);
}

Config Config::from_yaml(const YAML::Node& root, const Schema& schema, const std::string& origin) {
  Validator validator(origin);
  // The validator checks every node's kind before converting it; should a
  // conversion still fail, the user sees the file and the line, not a crash.
  try {
    return Config(validator.block(schema, root, "", false), origin, "");
  } catch (const YAML::Exception& e) {
    FR_FAIL(origin, ": line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg,
            " (a value of the wrong kind there)");
  }
}

YAML::Node Config::lookup(const std::string& path) const {
  YAML::Node node = root_;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    if (part.empty()) continue;
    FR_REQUIRE(node.IsMap() && node[part].IsDefined(), "internal: configuration key '",
               path_join(prefix_, path), "' of ", origin_, " is not declared");
    node.reset(node[part]);
  }
  return node;
}

template <class T>
T Config::get(const std::string& path) const {
  const YAML::Node n = lookup(path);
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    FR_FAIL("internal: configuration key '", path_join(prefix_, path), "' of ", origin_,
            " has an unexpected type");
  }
}

template bool Config::get<bool>(const std::string&) const;
template int Config::get<int>(const std::string&) const;
template long long Config::get<long long>(const std::string&) const;
template unsigned long long Config::get<unsigned long long>(const std::string&) const;
template double Config::get<double>(const std::string&) const;
template std::string Config::get<std::string>(const std::string&) const;
template std::vector<long long> Config::get<std::vector<long long>>(const std::string&) const;
template std::vector<int> Config::get<std::vector<int>>(const std::string&) const;
template std::vector<double> Config::get<std::vector<double>>(const std::string&) const;
template std::vector<std::string> Config::get<std::vector<std::string>>(const std::string&) const;

bool Config::has(const std::string& path) const {
  YAML::Node node = root_;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    if (!node.IsMap() || !node[part].IsDefined()) return false;
    node.reset(node[part]);
  }
  return !node.IsNull();
}

Config Config::sub(const std::string& path) const {
  return Config(lookup(path), origin_, path_join(prefix_, path));
}

std::vector<std::string> Config::keys(const std::string& path) const {
  const YAML::Node n = path.empty() ? root_ : lookup(path);
  std::vector<std::string> out;
  if (n.IsMap())
    for (const auto& kv : n) out.push_back(kv.first.as<std::string>());
  return out;
}

std::vector<Config> Config::items(const std::string& path) const {
  const YAML::Node n = lookup(path);
  std::vector<Config> out;
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(Config(n[i], origin_, path_join(prefix_, path) + "[" + std::to_string(i) + "]"));
  return out;
}

std::string Config::to_yaml() const {
  YAML::Emitter out;
  out << root_;
  return "# Resolved configuration (defaults filled in) from " + origin_ + "\n" + out.c_str() +
         "\n";
}

namespace {
void document_into(const Schema& schema, const std::string& prefix, std::ostringstream& out) {
  for (const auto& e : schema.entries()) {
    const std::string path = path_join(prefix, e->key);
    std::string def;
    if (e->required) {
      def = "required";
    } else if (e->default_value.IsDefined() && !e->default_value.IsNull()) {
      YAML::Emitter em;
      em << YAML::Flow << e->default_value;
      def = em.c_str();
    }
    out << "| `" << path << "` | " << kind_name(*e) << " | " << def << " | " << bounds_text(*e)
        << " | " << e->doc << " |\n";
    if (e->child) {
      const std::string child_prefix = e->kind == Kind::map_of    ? path + ".<name>"
                                       : e->kind == Kind::list_of ? path + "[]"
                                                                  : path;
      document_into(*e->child, child_prefix, out);
    }
  }
}
}  // namespace

std::string document(const Schema& schema) {
  std::ostringstream out;
  if (!schema.description().empty()) out << schema.description() << "\n\n";
  out << "| key | type | default | allowed | description |\n|---|---|---|---|---|\n";
  document_into(schema, "", out);
  return out.str();
}

}  // namespace fluxrecon::config
