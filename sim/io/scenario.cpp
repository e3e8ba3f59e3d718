// Scenario files: YAML -> ModelSpec, validated strictly. Every problem becomes a UserError naming the file,
// line, column and key path, what is wrong and how to fix it; nothing is run on a bad scenario.
#include "trustsim/io/scenario.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include <unistd.h>

#include "trustsim/random.hpp"
#include "trustsim/simulation.hpp"
#include "trustsim/version.hpp"

namespace trustsim::io {

bool within(const std::string& inner, const std::string& outer) {
    return inner.starts_with(outer) && (inner.size() == outer.size() || inner[outer.size()] == '.' || inner[outer.size()] == '[');
}

namespace {

using Node = YAML::Node;
namespace fs = std::filesystem;

constexpr std::uintmax_t max_scenario_bytes = 16u << 20;  // a scenario is hand-written; larger is a mistake
constexpr std::size_t max_firms = 10000;                  // firm ids are stored as int16 in snapshots
constexpr std::string_view whole_number_expected = "expected a whole number";


// Where a path written in a scenario is: relative paths are read from the scenario's folder.
std::string read_from(const std::string& base_dir, const std::string& written) {
    return fs::absolute((fs::path(base_dir) / written).lexically_normal()).string();
}

// How a scalar is marked as text to YAML, where it is: quoted (yaml-cpp tags it "!") or tagged !!str. Another
// reader of the file would not see a number or a boolean in it.
struct TextMarking {
    std::string_view shown_as, to_remove;
};
std::optional<TextMarking> marked_as_text(const YAML::Node& node) {
    if (node.Tag() == "!") return TextMarking{"in quotes", "the quotes"};
    if (node.Tag() == "tag:yaml.org,2002:str") return TextMarking{"tagged !!str", "the !!str tag"};
    return std::nullopt;
}

constexpr double max_contacts = 10000;                    // well-mixed contacts per customer and step; more would only be slow

template <class Text>
std::string join(const std::vector<Text>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + std::string(name);
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// "did you mean 'x'?" when a known name is close, else the list of known names.
std::string suggest(std::string_view given, const std::vector<std::string_view>& known, const std::string& what = "known keys") {
    std::string_view best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const auto name : known) {
        const auto d = edit_distance(given, name);
        if (d < best_distance) best = name, best_distance = d;
    }
    if (!best.empty() && best_distance <= std::max<std::size_t>(2, given.size() / 3))
        return "did you mean '" + std::string(best) + "'? (" + what + ": " + join(known) + ")";
    return "use one of the " + what + ": " + join(known);
}

std::string format_number(double x) {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;  // shortest text that reads back exactly
    return {buffer, end};
}

std::string child_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}
std::string index_path(const std::string& parent, std::size_t i) { return parent + "[" + std::to_string(i) + "]"; }

template <class T>
std::vector<std::string_view> field_names(std::initializer_list<std::string_view> extra = {}) {
    std::vector<std::string_view> names;
    for (const auto& field : T::fields) names.push_back(field.name);
    names.insert(names.end(), extra.begin(), extra.end());
    return names;
}

// The keys of each section of a scenario (sections within a list written with [i]): what check_map allows
// there, and where a key written in the wrong section belongs.
struct Section {
    std::string_view path;
    std::vector<std::string_view> keys;
};
const std::vector<Section>& sections() {
    static const std::vector<Section> all = {
        {"", {"description", "simulation", "customers", "employees", "firms", "behaviour", "network", "record", "events", "sweep"}},
        {"simulation", field_names<SimulationSpec>()},
        {"customers", field_names<CustomerSpec>({"propensity_to_trust", "honesty", "reciprocity", "initial_perception"})},
        {"employees", {"propensity_to_trust", "honesty", "reciprocity", "initial_perception"}},
        {"firms[i]", field_names<FirmSpec>({"name", "adaptive_control", "copies"})},
        {"firms[i].adaptive_control", field_names<AdaptiveControl>()},
        {"behaviour", field_names<BehaviourSpec>()},
        {"network", {"type", "mean_degree", "rewire", "file"}},
        {"record", field_names<RecordSpec>()},
    };
    return all;
}
const std::vector<std::string_view>& keys_of(std::string_view section) {
    return std::find_if(sections().begin(), sections().end(), [&](const Section& s) { return s.path == section; })->keys;
}

// The section a path is in, its indices written [i]: "firms[2].adaptive_control" is in firms[i].adaptive_control.
std::string section_of(const std::string& path) {
    std::string section;
    for (std::size_t at = 0; at < path.size(); ++at) {
        section += path[at];
        if (path[at] == '[') at = path.find(']', at) - 1, section += 'i';
    }
    return section;
}

// Keys written by analogy with another section, whose meaning is kept elsewhere under another name.
struct Misplaced {
    std::string_view section, key, fix;
};
constexpr Misplaced misplaced_keys[] = {
    {"", "name", "a scenario is named by its file (its output is <file name>.h5 by default); say what it is with 'description: ...'"},
    {"employees", "count", "each firm's staff is set with the firm: firms[i].employees, e.g. firms: [{name: A, employees: 50}]"},
    {"firms[i]", "count", "a firm's staff is firms[i].employees; several identical firms are firms[i].copies"},
};

// The fix for an unknown key in a section: where it belongs instead, the other sections it is a key of
// ("simulation" or "customers or firms[i]"), or the known key nearest to it.
std::string unknown_key_fix(const std::string& path, std::string_view name, const std::vector<std::string_view>& known) {
    const auto section = section_of(path);
    for (const auto& m : misplaced_keys)
        if (m.section == section && m.key == name) return std::string(m.fix);
    const auto is_section = [&](const Section& s) { return s.path == section; };
    std::string homes;
    if (std::any_of(sections().begin(), sections().end(), is_section))  // not a distribution, an event, ...
        for (const auto& s : sections())
            if (!s.path.empty() && std::find(s.keys.begin(), s.keys.end(), name) != s.keys.end()) homes += (homes.empty() ? "" : " or ") + std::string(s.path);
    if (homes.empty()) return suggest(name, known);
    return "'" + std::string(name) + "' is a key of " + homes + ", not of " + (path.empty() ? "the top level" : path) + " (its keys: " + join(known) + ")";
}

// With small shapes both gamma draws of a beta draw can underflow to 0, and the draw is 0/0 = NaN (a fifth
// of the agents at 0.001, 52 in 10^5 at 0.005); at 0.05 that takes a uniform below about 10^-15 twice.
// Beta(0.05, 0.05) already puts nearly all its mass at 0 and 1.
constexpr double min_beta_shape = 0.05;

constexpr std::string_view network_kinds[] = {"none", "well_mixed", "erdos_renyi", "watts_strogatz", "barabasi_albert", "edge_list"};
constexpr std::string_view event_kinds[] = {"policy", "breach", "scandal"};
constexpr std::string_view distribution_kinds[] = {"beta", "uniform", "constant"};

// Counts the nodes a YAML text expands to, aliases included, from the parser's events (which never
// expand aliases), so that an alias bomb is refused before anything builds or walks the expanded tree.
class ExpandedSize final : public YAML::EventHandler {
public:
    std::uint64_t total = 0;
    int documents = 0;

    void OnDocumentStart(const YAML::Mark&) override { ++documents; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor); }
    void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override { add(size_[anchor]); }
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, const std::string&) override { leaf(anchor); }
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override { open(anchor); }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override { open(anchor); }
    void OnMapEnd() override { close(); }

private:
    static constexpr std::uint64_t cap = std::uint64_t{1} << 60;  // saturate instead of overflowing
    void add(std::uint64_t n) {
        auto& count = open_.empty() ? total : open_.back().second;
        count = std::min(cap, count + n);
    }
    void leaf(YAML::anchor_t anchor) {
        if (anchor) size_[anchor] = 1;
        add(1);
    }
    void open(YAML::anchor_t anchor) { open_.emplace_back(anchor, 1); }
    void close() {
        const auto [anchor, count] = open_.back();
        open_.pop_back();
        if (anchor) size_[anchor] = count;
        add(count);
    }
    std::vector<std::pair<YAML::anchor_t, std::uint64_t>> open_;
    std::map<YAML::anchor_t, std::uint64_t> size_;
};

constexpr std::uint64_t max_yaml_nodes = 1'000'000;  // a scenario has hundreds; far more is a mistake or an attack

// Edge lists read while loading a scenario, by path, with their largest customer id: a sweep's points share
// one list (also across customer counts), which is then read and held once, not once per point.
struct EdgeList {
    std::shared_ptr<const std::vector<Edge>> edges;
    std::int64_t largest_id = -1;
};
using EdgeLists = std::map<std::string, EdgeList>;

// Reads one YAML tree; knows the file name and which key paths came from --set, for messages.
class Reader {
public:
    Reader(std::string file, std::vector<std::string> overridden, EdgeLists& edge_lists)
        : file_(std::move(file)), overridden_(std::move(overridden)), edge_lists_(&edge_lists) {}
    EdgeLists& edge_lists() const { return *edge_lists_; }

    // `written_at`: the path of the node in the tree, when the message names another (a sweep's parameter).
    SourceLocation where(const Node& node, const std::string& path, const std::string& written_at = {}) const {
        const bool in_file = node.IsDefined() && !node.Mark().is_null();
        const auto& at = written_at.empty() ? path : written_at;
        // A key --set wrote, or inside it, or (not in the file) a mapping --set created to hold it.
        for (const auto& o : overridden_)
            if (within(at, o) || (!in_file && within(o, at))) return {"--set " + o, 0, 0, path};
        SourceLocation location{file_, 0, 0, path};
        if (in_file) location.line = node.Mark().line + 1, location.column = node.Mark().column + 1;
        return location;
    }
    [[noreturn]] void fail(const Node& node, const std::string& path, const std::string& problem, const std::string& fix) const {
        throw UserError(where(node, path), problem, fix);
    }

    static std::string describe(const Node& node) {
        switch (node.Type()) {
            case YAML::NodeType::Map: return "a mapping";
            case YAML::NodeType::Sequence: return "a list";
            case YAML::NodeType::Null: return "nothing";
            default: return "'" + node.Scalar() + "'";
        }
    }

    // A mapping whose keys are all known and unique.
    void check_map(const Node& node, const std::string& path, const std::vector<std::string_view>& known) const {
        if (!node.IsMap())
            fail(node, path, "expected a mapping of keys (" + join(known) + "), got " + describe(node),
                 "write it as 'key: value' lines indented under '" + path + ":'");
        std::set<std::string> seen;
        for (const auto& item : node) {
            const Node& key = item.first;
            if (!key.IsScalar()) fail(key, path, "a key here is " + describe(key) + ", not a name", "use plain names as keys");
            const auto& name = key.Scalar();
            const auto key_path = child_path(path, name);
            if (std::find(known.begin(), known.end(), name) == known.end())
                fail(key, key_path, "unknown key '" + name + "'", unknown_key_fix(path, name, known));
            if (!seen.insert(name).second) fail(key, key_path, "key '" + name + "' appears twice", "keep one of them");
        }
    }

    bool overridden(const std::string& path) const { return std::find(overridden_.begin(), overridden_.end(), path) != overridden_.end(); }

    void require(const Node& map, const std::string& path, std::string_view key, const std::string& example) const {
        if (!map[std::string(key)]) fail(map, child_path(path, key), "required key '" + std::string(key) + "' is missing", "add it, e.g. " + example);
    }

    double number(const Node& node, const std::string& path, double min, double max, std::string_view example = "0.5 or 1e4") const {
        if (!node.IsScalar()) fail(node, path, "expected a number, got " + describe(node), "write a plain number");
        const auto& text = node.Scalar();
        if (const auto marking = marked_as_text(node))
            fail(node, path, "expected a number, got the text \"" + text + "\" (" + std::string(marking->shown_as) + ")",
                 "remove " + std::string(marking->to_remove) + ": " + text);
        double value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
            fail(node, path, "expected a finite number, got '" + text + "'", "write a number such as " + std::string(example));
        if (value < min || value > max) {
            const std::string range = max >= unbounded && value < min ? "at least " + format_number(min) : "between " + format_number(min) + " and " + format_number(max);
            fail(node, path, "value " + text + " is out of range", "use a value " + range);
        }
        return value;
    }

    std::int64_t integer(const Node& node, const std::string& path, double min, double max) const {
        const double value = number(node, path, min, max, "200 or 1e4");
        if (value != std::floor(value)) fail(node, path, std::string(whole_number_expected) + ", got " + node.Scalar(), "drop the fraction");
        // Beyond 2^53 a double skips whole numbers: 9007199254740993 would be read as ...992.
        const auto& text = node.Scalar();
        std::int64_t written = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), written);
        if (error == std::errc() && end == text.data() + text.size() && written != static_cast<std::int64_t>(value))
            fail(node, path, "value " + text + " cannot be read exactly (whole numbers above 2^53 are not)", "use a value up to 9007199254740992");
        return static_cast<std::int64_t>(value);
    }

    bool boolean(const Node& node, const std::string& path) const {
        bool value = false;
        if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
            fail(node, path, "expected true or false, got " + describe(node), "write true or false");
        if (const auto marking = marked_as_text(node))
            fail(node, path, "expected true or false, got the text \"" + node.Scalar() + "\"", "remove " + std::string(marking->to_remove) + ": " + node.Scalar());
        // yaml-cpp also reads YAML 1.1's y, yes, on, off, ...; YAML 1.2 and most other readers take them as text.
        static constexpr std::string_view booleans[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
        if (std::find(std::begin(booleans), std::end(booleans), node.Scalar()) == std::end(booleans))
            fail(node, path, "expected true or false, got " + node.Scalar(), std::string("write ") + (value ? "true" : "false"));
        return value;
    }

    std::string text(const Node& node, const std::string& path) const {
        if (!node.IsScalar())
            fail(node, path, "expected text, got " + describe(node),
                 node.IsMap() ? "put text holding ': ' (or starting with '{', '[' or '-') in quotes, e.g. \"50% off: now\"" : "write a plain string");
        return node.Scalar();
    }

    template <std::size_t N>
    std::string_view choice(const Node& node, const std::string& path, const std::string_view (&options)[N]) const {
        const auto value = text(node, path);
        for (const auto option : options)
            if (value == option) return option;
        const std::vector<std::string_view> known(std::begin(options), std::end(options));
        fail(node, path, "'" + value + "' is not an allowed value", suggest(value, known, "allowed values"));
    }

    // Reads the keys of `map` that name fields of T (others are the caller's to read).
    template <class T>
    void read_fields(const Node& map, const std::string& path, T& target) const {
        for (const auto& field : T::fields) {
            const Node node = map[std::string(field.name)];
            if (!node) continue;
            const auto field_path = child_path(path, field.name);
            std::visit(
                [&](auto member) {
                    using Value = std::remove_cvref_t<decltype(target.*member)>;
                    if constexpr (std::is_same_v<Value, bool>)
                        target.*member = boolean(node, field_path);
                    else if constexpr (std::is_same_v<Value, std::int64_t>)
                        target.*member = integer(node, field_path, field.min, field.max);
                    else
                        target.*member = number(node, field_path, field.min, field.max);
                },
                field.member);
        }
    }

    // A bare number (constant) or {dist: beta, a, b} | {dist: uniform, low, high} | {dist: constant, value}.
    Distribution distribution(const Node& node, const std::string& path) const {
        if (node.IsScalar()) return {Distribution::Kind::constant, number(node, path, 0, 1), 0};
        if (node.IsMap() && !node["dist"]) {
            for (const std::string other : {"type", "kind", "distribution"})  // what other tools call it
                if (const Node kind = node[other]; kind && kind.IsScalar())
                    fail(kind, child_path(path, other), "a distribution names its kind with the key dist, not " + other, "write dist: " + kind.Scalar());
            fail(node, path, "this distribution does not say its kind (the key dist)",
                 "add dist: beta (with a and b), dist: uniform (with low and high) or dist: constant (with value)");
        }
        if (!node.IsMap())
            fail(node, path, "expected a distribution, got " + describe(node),
                 "write a number in [0, 1] or {dist: beta, a: 2, b: 2}, {dist: uniform, low: 0, high: 1}, {dist: constant, value: 0.5}");
        const auto kind = choice(node["dist"], child_path(path, "dist"), distribution_kinds);
        if (kind == "beta") {
            check_map(node, path, {"dist", "a", "b"});
            require(node, path, "a", "a: 2");
            require(node, path, "b", "b: 2");
            return {Distribution::Kind::beta, number(node["a"], child_path(path, "a"), min_beta_shape, 1e6), number(node["b"], child_path(path, "b"), min_beta_shape, 1e6)};
        }
        if (kind == "uniform") {
            check_map(node, path, {"dist", "low", "high"});
            require(node, path, "low", "low: 0");
            require(node, path, "high", "high: 1");
            const double low = number(node["low"], child_path(path, "low"), 0, 1);
            const double high = number(node["high"], child_path(path, "high"), 0, 1);
            if (high < low) fail(node, path, "uniform distribution with high < low", "swap low and high");
            return {Distribution::Kind::uniform, low, high};
        }
        check_map(node, path, {"dist", "value"});
        require(node, path, "value", "value: 0.5");
        return {Distribution::Kind::constant, number(node["value"], child_path(path, "value"), 0, 1), 0};
    }

    Perception perception(const Node& node, const std::string& path) const {
        static const std::vector<std::string_view> components = {"credibility", "reliability", "intimacy", "self_orientation"};
        check_map(node, path, components);
        for (const auto component : components) require(node, path, component, std::string(component) + ": 0.5");
        const auto read = [&](std::string_view c) { return static_cast<float>(number(node[std::string(c)], child_path(path, c), 0, 1)); };
        return {read("credibility"), read("reliability"), read("intimacy"), read("self_orientation")};
    }

    void dispositions(const Node& section, const std::string& path, Dispositions& target) const {
        if (const Node n = section["propensity_to_trust"]) target.propensity_to_trust = distribution(n, child_path(path, "propensity_to_trust"));
        if (const Node n = section["honesty"]) target.honesty = distribution(n, child_path(path, "honesty"));
        if (const Node n = section["reciprocity"]) target.reciprocity = distribution(n, child_path(path, "reciprocity"));
    }

private:
    std::string file_;
    std::vector<std::string> overridden_;
    EdgeLists* edge_lists_;
};

// Applies "a.b[0].c=value" to the tree; the value is parsed as YAML, so lists and maps are allowed too.
std::string apply_override(Node& root, const std::string& assignment) {
    const auto at = assignment.find('=');
    const SourceLocation location{"--set " + assignment, 0, 0, ""};
    if (at == std::string::npos || at == 0)
        throw UserError(location, "an override must look like key.path=value", "e.g. --set firms[0].control_customers=0.5");
    const std::string path = assignment.substr(0, at);
    Node value;
    try {
        value = YAML::Load(assignment.substr(at + 1));
    } catch (const YAML::Exception& e) {
        throw UserError(location, "the value is not valid YAML: " + e.msg, "quote it or fix its syntax");
    }
    if (!value || value.IsNull()) throw UserError(location, "the value is empty", "write a value after '='");

    Node node = root;
    std::string walked;
    std::size_t begin = 0;
    while (true) {
        const auto end = path.find('.', begin);
        const std::string segment = path.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        const auto bracket = segment.find('[');
        const std::string key = segment.substr(0, bracket);
        if (key.empty() || (bracket != std::string::npos && segment.back() != ']'))
            throw UserError(location, "cannot read the key path '" + path + "'", "write names joined by dots, list items as name[index]");
        const bool last = end == std::string::npos;
        walked = child_path(walked, key);
        if (node.IsDefined() && !node.IsMap() && !node.IsNull())
            throw UserError(location, "'" + walked + "' is inside " + Reader::describe(node) + ", not a mapping", "check the key path");
        if (bracket == std::string::npos) {
            if (last) {
                node[key] = value;
                return path;
            }
            node.reset(node[key]);
        } else {
            std::size_t index = 0;
            const auto digits = segment.substr(bracket + 1, segment.size() - bracket - 2);
            const auto [p, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
            if (error != std::errc() || p != digits.data() + digits.size())
                throw UserError(location, "'" + segment + "' has no valid index", "write name[0], name[1], ...");
            Node list = node[key];
            if (!list.IsSequence() || index >= list.size())
                throw UserError(location, "'" + walked + "' has no item " + std::to_string(index),
                                "the scenario lists " + std::to_string(list.IsSequence() ? list.size() : 0) + " item(s) there, counted from 0");
            walked = index_path(walked, index);
            if (last) {
                list[index] = value;
                return path;
            }
            node.reset(list[index]);
        }
        begin = end + 1;
    }
}

FirmSpec read_firm(const Reader& r, const Node& node, const std::string& path, std::int64_t& copies) {
    r.check_map(node, path, keys_of("firms[i]"));
    r.require(node, path, "name", "name: Acme");
    FirmSpec firm;
    firm.name = r.text(node["name"], child_path(path, "name"));
    if (firm.name.empty()) r.fail(node["name"], child_path(path, "name"), "the firm's name is empty", "give every firm a name");
    r.read_fields(node, path, firm);
    if (const Node control = node["adaptive_control"]) {
        const auto control_path = child_path(path, "adaptive_control");
        r.check_map(control, control_path, keys_of("firms[i].adaptive_control"));
        r.read_fields(control, control_path, firm.adaptive_control);
        if (firm.adaptive_control.floor > firm.adaptive_control.ceiling)
            r.fail(control, control_path, "floor is above ceiling", "make floor <= ceiling");
    }
    copies = node["copies"] ? r.integer(node["copies"], child_path(path, "copies"), 1, max_firms) : 1;
    return firm;
}

std::vector<FirmSpec> read_firms(const Reader& r, const Node& node) {
    if (!node || !node.IsSequence() || node.size() == 0)
        r.fail(node, "firms", "the scenario needs a non-empty list of firms", "add one, e.g. firms: [{name: A}, {name: B}]");
    std::vector<FirmSpec> firms;
    std::set<std::string> names;
    for (std::size_t i = 0; i < node.size(); ++i) {
        const auto path = index_path("firms", i);
        std::int64_t copies = 1;
        const auto firm = read_firm(r, node[i], path, copies);
        for (std::int64_t c = 1; c <= copies; ++c) {
            FirmSpec copy = firm;
            if (copies > 1) copy.name += "-" + std::to_string(c);  // copies are numbered: name-1, name-2, ...
            if (!names.insert(copy.name).second) r.fail(node[i]["name"], child_path(path, "name"), "two firms are named '" + copy.name + "'", "give each firm its own name");
            firms.push_back(std::move(copy));
            if (firms.size() > max_firms) r.fail(node[i], path, "more than " + std::to_string(max_firms) + " firms", "use fewer firms");
        }
    }
    return firms;
}

NetworkSpec read_network(const Reader& r, const Node& node, std::int64_t customers, const std::string& base_dir) {
    NetworkSpec network;
    if (!node) return network;
    r.check_map(node, "network", keys_of("network"));
    if (node["type"]) network.kind = static_cast<NetworkSpec::Kind>(std::find(std::begin(network_kinds), std::end(network_kinds), r.choice(node["type"], "network.type", network_kinds)) - std::begin(network_kinds));
    using Kind = NetworkSpec::Kind;
    // With the type changed by --set, the file's other network keys may no longer apply: replacing the whole
    // section is the override that works.
    const std::string replace_section = r.overridden("network.type") ? ", or override the whole section: --set \"network={type: " + node["type"].Scalar() + "}\"" : "";
    const auto only_for = [&](std::string_view key, bool applies, std::string_view types) {
        if (node[std::string(key)] && !applies)
            r.fail(node[std::string(key)], child_path("network", key), std::string(key) + " does not apply to this network type",
                   "remove it (it is used by " + std::string(types) + ")" + replace_section);
    };
    only_for("mean_degree", network.kind != Kind::none && network.kind != Kind::edge_list, "well_mixed, erdos_renyi, watts_strogatz and barabasi_albert");
    only_for("rewire", network.kind == Kind::watts_strogatz, "watts_strogatz");
    only_for("file", network.kind == Kind::edge_list, "edge_list");
    // Well-mixed contacts are drawn with replacement, so they may outnumber the other customers.
    const double max_degree = network.kind == Kind::well_mixed ? max_contacts : static_cast<double>(customers - 1);
    if (const Node degree = node["mean_degree"]) {
        // Their degree is even, so at least 2, which needs 3 customers.
        const bool even_integer = network.kind == Kind::watts_strogatz || network.kind == Kind::barabasi_albert;
        if (const int fewest = even_integer ? 3 : 2; customers < fewest && network.kind != Kind::well_mixed)
            r.fail(degree, "network.mean_degree", "this network needs at least " + std::to_string(fewest) + " customers",
                   "raise customers.count or use type: none");
        network.mean_degree = r.number(degree, "network.mean_degree", network.kind == Kind::erdos_renyi ? 0 : 1, max_degree);
        if (even_integer && std::fmod(network.mean_degree, 2) != 0)
            r.fail(degree, "network.mean_degree", "this network type needs an even whole mean degree, got " + degree.Scalar(), "use 2, 4, 6, ...");
        if (network.kind == Kind::well_mixed && network.mean_degree != std::floor(network.mean_degree))
            r.fail(degree, "network.mean_degree", "well_mixed draws a whole number of contacts per step, got " + degree.Scalar(), "use a whole number");
    } else if (network.kind != Kind::none && network.kind != Kind::edge_list && network.mean_degree > max_degree) {
        r.fail(node, "network.mean_degree", "the default mean degree " + format_number(network.mean_degree) + " needs more than " +
                                                std::to_string(customers) + " customers", "set network.mean_degree below customers.count");
    }
    if (const Node rewire = node["rewire"]) network.rewire = r.number(rewire, "network.rewire", 0, 1);
    if (network.kind == Kind::edge_list) {
        r.require(node, "network", "file", "file: contacts.txt");
        const auto written = r.text(node["file"], "network.file");
        if (written.empty()) r.fail(node["file"], "network.file", "the edge list's path is empty", "name the file, e.g. file: contacts.txt");
        const auto path = fs::path(read_from(base_dir, written));
        if (fs::is_directory(path)) r.fail(node["file"], "network.file", "'" + path.string() + "' is a folder, not an edge list", "name the edge-list file in it");
        if (!fs::exists(path))
            r.fail(node["file"], "network.file", "there is no edge list at '" + path.string() + "'",
                   "check the path; a relative path is read from the scenario's folder");
        if (!fs::is_regular_file(path))  // a pipe would be empty the second time; a device may never end
            r.fail(node["file"], "network.file", "'" + path.string() + "' is not a regular file (a pipe or a device?): every run of a sweep reads it again",
                   "write the edges to a file and name it");
        network.file = path.string();
        auto& list = r.edge_lists()[network.file];
        if (!list.edges) {
            list.edges = std::make_shared<const std::vector<Edge>>(read_edge_list(network.file, customers));
            for (const auto& e : *list.edges) list.largest_id = std::max<std::int64_t>({list.largest_id, e.a, e.b});
        } else if (list.largest_id >= customers) {
            read_edge_list(network.file, customers);  // throws, naming the line of an id out of this point's range
        }
        if (list.edges->empty())
            r.fail(node["file"], "network.file", "the edge list '" + path.string() + "' holds no edges",
                   "check the file (two customer ids per line); for a market without word of mouth write network: {type: none}");
        network.edges = list.edges;
    }
    return network;
}

std::vector<Event> read_events(const Reader& r, const Node& node, const ModelSpec& spec) {
    std::vector<Event> events;
    if (!node) return events;
    if (!node.IsSequence()) r.fail(node, "events", "expected a list of events, got " + Reader::describe(node), "write each event as '- type: ...'");
    const auto policy_fields = [] {
        std::vector<std::string_view> names;
        for (const auto& field : FirmSpec::fields)
            if (std::holds_alternative<double FirmSpec::*>(field.member)) names.push_back(field.name);
        names.push_back("adaptive_control");
        return names;
    }();
    // Each firm's policy as the events leave it, in the order they happen, so that a change of adaptive
    // control's floor or ceiling is checked against the other one as it is then.
    std::vector<FirmSpec> policies = spec.firms;
    std::vector<std::size_t> order(node.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = 0; i < node.size(); ++i) {
        const Node item = node[i];
        const auto path = index_path("events", i);
        if (!item.IsMap()) r.fail(item, path, "expected an event mapping, got " + Reader::describe(item), "write '- type: policy' and its keys");
        r.require(item, path, "type", "type: policy");
        Event event;
        const auto kind = r.choice(item["type"], child_path(path, "type"), event_kinds);
        if (kind == "policy") {
            event.kind = Event::Kind::policy;
            r.check_map(item, path, {"type", "step", "firm", "set"});
        } else if (kind == "breach") {
            event.kind = Event::Kind::breach;
            r.check_map(item, path, {"type", "step", "firm", "size"});
        } else {
            event.kind = Event::Kind::scandal;
            r.check_map(item, path, {"type", "step", "firm", "size", "duration", "media", "contagion", "per_contact"});
        }
        r.require(item, path, "step", "step: 50");
        r.require(item, path, "firm", "firm: " + spec.firms.front().name);
        const auto last_step = static_cast<double>(spec.simulation.steps - 1);
        event.step = r.integer(item["step"], child_path(path, "step"), 0, unbounded);
        if (static_cast<double>(event.step) > last_step)
            r.fail(item["step"], child_path(path, "step"), "the event never happens: steps run from 0 to " + format_number(last_step),
                   "use a step below simulation.steps");
        const auto firm_name = r.text(item["firm"], child_path(path, "firm"));
        const auto found = std::find_if(spec.firms.begin(), spec.firms.end(), [&](const FirmSpec& f) { return f.name == firm_name; });
        if (found == spec.firms.end()) {
            const auto owned = spec.firm_names();
            const std::vector<std::string_view> names(owned.begin(), owned.end());
            const bool copied = std::any_of(names.begin(), names.end(), [&](std::string_view name) { return name == firm_name + "-1"; });
            r.fail(item["firm"], child_path(path, "firm"), "no firm is named '" + firm_name + "'",
                   copied ? "'" + firm_name + "' has copies, named " + firm_name + "-1, " + firm_name + "-2, ...: name one of them"
                          : suggest(firm_name, names, "firms"));
        }
        event.firm = static_cast<int>(found - spec.firms.begin());
        if (const Node size = item["size"]) event.size = r.number(size, child_path(path, "size"), 0, 1);
        if (const Node duration = item["duration"]) event.duration = r.integer(duration, child_path(path, "duration"), 1, 1e7);
        if (const Node media = item["media"]) event.media = r.number(media, child_path(path, "media"), 0, 1);
        if (const Node contagion = item["contagion"]) event.contagion = r.number(contagion, child_path(path, "contagion"), 0, 1);
        if (const Node per_contact = item["per_contact"]) event.per_contact = r.boolean(per_contact, child_path(path, "per_contact"));
        if (event.kind == Event::Kind::policy) {
            r.require(item, path, "set", "set: {control_customers: 0.8}");
            const auto set_path = child_path(path, "set");
            const Node set = item["set"];
            r.check_map(set, set_path, policy_fields);
            if (set.size() == 0) r.fail(set, set_path, "the policy event changes nothing", "list at least one firm field to set");
            for (const auto& field : FirmSpec::fields) {
                if (!set[std::string(field.name)] || !std::holds_alternative<double FirmSpec::*>(field.member)) continue;
                const auto member = std::get<double FirmSpec::*>(field.member);
                event.changes.push_back({member, r.number(set[std::string(field.name)], child_path(set_path, field.name), field.min, field.max)});
            }
            if (const Node control = set["adaptive_control"]) {
                const auto control_path = child_path(set_path, "adaptive_control");
                r.check_map(control, control_path, keys_of("firms[i].adaptive_control"));
                if (control.size() == 0) r.fail(control, control_path, "the policy event changes nothing of adaptive control", "list a field to set, e.g. enabled: true");
                AdaptiveControl given;
                r.read_fields(control, control_path, given);
                for (const auto& field : AdaptiveControl::fields)
                    if (control[std::string(field.name)])
                        std::visit([&](auto member) { event.changes.push_back({field.member, static_cast<double>(given.*member)}); }, field.member);
            }
        }
        events.push_back(std::move(event));
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return events[a].step < events[b].step; });
    for (const auto i : order) {
        auto& policy = policies[static_cast<std::size_t>(events[i].firm)];
        for (const auto& change : events[i].changes) change.apply(policy);
        if (policy.adaptive_control.floor > policy.adaptive_control.ceiling)
            r.fail(node[i]["set"], child_path(index_path("events", i), "set"),
                   "after this event adaptive control's floor (" + format_number(policy.adaptive_control.floor) + ") is above its ceiling (" +
                       format_number(policy.adaptive_control.ceiling) + ")",
                   "make floor <= ceiling");
    }
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.step < b.step; });
    return events;
}

ModelSpec read_spec(const Reader& r, const Node& root, const std::string& base_dir) {
    if (!root.IsMap())
        r.fail(root, "", "a scenario must be a YAML mapping of sections, got " + Reader::describe(root),
               "start from scenarios/baseline.yaml: sections simulation, customers, employees, firms, behaviour, network, record, events");
    r.check_map(root, "", keys_of(""));
    ModelSpec spec;
    if (const Node description = root["description"]) spec.description = r.text(description, "description");
    if (const Node simulation = root["simulation"]) {
        r.check_map(simulation, "simulation", keys_of("simulation"));
        r.read_fields(simulation, "simulation", spec.simulation);
    }
    if (const Node customers = root["customers"]) {
        r.check_map(customers, "customers", keys_of("customers"));
        r.read_fields(customers, "customers", spec.customers);
        r.dispositions(customers, "customers", spec.customers.dispositions);
        if (const Node p = customers["initial_perception"]) spec.customers.initial_perception = r.perception(p, "customers.initial_perception");
    }
    if (const Node employees = root["employees"]) {
        r.check_map(employees, "employees", keys_of("employees"));
        r.dispositions(employees, "employees", spec.employees.dispositions);
        if (const Node p = employees["initial_perception"]) spec.employees.initial_perception = r.perception(p, "employees.initial_perception");
    }
    spec.firms = read_firms(r, root["firms"]);
    if (const Node behaviour = root["behaviour"]) {
        r.check_map(behaviour, "behaviour", keys_of("behaviour"));
        r.read_fields(behaviour, "behaviour", spec.behaviour);
    }
    spec.network = read_network(r, root["network"], spec.customers.count, base_dir);
    if (const Node record = root["record"]) {
        r.check_map(record, "record", keys_of("record"));
        r.read_fields(record, "record", spec.record);
    }
    spec.events = read_events(r, root["events"], spec);
    return spec;
}

// Emission of the resolved scenario, driven by the same field tables as reading.
void emit_value(YAML::Emitter& out, bool value) { out << std::string(value ? "true" : "false"); }
void emit_value(YAML::Emitter& out, std::int64_t value) { out << std::to_string(value); }
void emit_value(YAML::Emitter& out, double value) { out << format_number(value); }

template <class T>
void emit_fields(YAML::Emitter& out, const T& source) {
    for (const auto& field : T::fields) {
        out << YAML::Key << std::string(field.name) << YAML::Value;
        std::visit([&](auto member) { emit_value(out, source.*member); }, field.member);
    }
}

// How a kind of distribution is written: its name and the keys of its parameters a and b (none for constant's b).
struct DistributionKeys {
    const char *dist, *a, *b;
};
DistributionKeys keys_of(Distribution::Kind kind) {
    switch (kind) {
        case Distribution::Kind::beta: return {"beta", "a", "b"};
        case Distribution::Kind::uniform: return {"uniform", "low", "high"};
        case Distribution::Kind::constant: return {"constant", "value", nullptr};
    }
    throw InternalError("unknown distribution kind");
}

void emit_distribution(YAML::Emitter& out, std::string_view name, const Distribution& d) {
    const auto keys = keys_of(d.kind);
    out << YAML::Key << std::string(name) << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "dist" << YAML::Value << keys.dist << YAML::Key << keys.a << YAML::Value << format_number(d.a);
    if (keys.b) out << YAML::Key << keys.b << YAML::Value << format_number(d.b);
    out << YAML::EndMap;
}

void emit_agents(YAML::Emitter& out, const Dispositions& d, const std::optional<Perception>& initial) {
    emit_distribution(out, "propensity_to_trust", d.propensity_to_trust);
    emit_distribution(out, "honesty", d.honesty);
    emit_distribution(out, "reciprocity", d.reciprocity);
    if (!initial) return;  // absent: derived per agent from its propensity to trust
    out << YAML::Key << "initial_perception" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "credibility" << YAML::Value
        << format_number(initial->credibility) << YAML::Key << "reliability" << YAML::Value << format_number(initial->reliability)
        << YAML::Key << "intimacy" << YAML::Value << format_number(initial->intimacy) << YAML::Key << "self_orientation" << YAML::Value
        << format_number(initial->self_orientation) << YAML::EndMap;
}

// One row of the key reference: key | default | allowed | unit | meaning.
std::string reference_row(std::string_view key, const std::string& value, const std::string& allowed, std::string_view unit, std::string_view doc) {
    return "| `" + std::string(key) + "` | " + value + " | " + allowed + " | " + std::string(unit) + " | " + std::string(doc) + " |\n";
}

std::string range_text(double min, double max, bool whole) {
    const auto bound = [&](double x) { return whole ? std::to_string(static_cast<std::int64_t>(x)) : format_number(x); };
    return max >= unbounded ? "≥ " + bound(min) : bound(min) + " … " + bound(max);
}

template <class T>
std::string reference_table(std::string_view title, const T& defaults, const std::string& extra_rows = {}) {
    std::string text = "### `" + std::string(title) + "`\n\n| key | default | allowed | unit | meaning |\n|---|---|---|---|---|\n";
    for (const auto& field : T::fields)
        std::visit(
            [&](auto member) {
                using Value = std::remove_cvref_t<decltype(defaults.*member)>;
                if constexpr (std::is_same_v<Value, bool>)
                    text += reference_row(field.name, defaults.*member ? "true" : "false", "true, false", field.unit, field.doc);
                else if constexpr (std::is_same_v<Value, std::int64_t>)
                    text += reference_row(field.name, std::to_string(defaults.*member), range_text(field.min, field.max, true), field.unit, field.doc);
                else
                    text += reference_row(field.name, format_number(defaults.*member), range_text(field.min, field.max, false), field.unit, field.doc);
            },
            field.member);
    return text + extra_rows + "\n";
}

std::string distribution_text(const Distribution& d) {
    const auto keys = keys_of(d.kind);
    return keys.b ? std::string(keys.dist) + "(" + format_number(d.a) + ", " + format_number(d.b) + ")" : format_number(d.a);
}

std::string disposition_rows(const Dispositions& d, std::string_view who) {
    const std::string kinds = "distribution on [0, 1]";
    return reference_row("propensity_to_trust", distribution_text(d.propensity_to_trust), kinds, "", "pi: disposition to trust others, drawn per " + std::string(who)) +
           reference_row("honesty", distribution_text(d.honesty), kinds, "", "h: disposition to act in good faith, drawn per " + std::string(who)) +
           reference_row("reciprocity", distribution_text(d.reciprocity), kinds, "", "rho: how strongly good faith answers trust shown (and falls under control)") +
           reference_row("initial_perception", "from pi: C = R = I = pi, S = (1 - pi)/2", "{credibility, reliability, intimacy, self_orientation} in [0, 1]", "",
                         "the perception every " + std::string(who) + " starts with, if given");
}


// The `sweep:` section: exactly one of grid, points, random, latin_hypercube (or none: one point), and
// replicates. Values are kept as YAML text and applied to the scenario like --set overrides.
constexpr std::int64_t max_sweep_runs = 10'000'000;

std::vector<std::vector<std::string>> cartesian(const std::vector<std::vector<std::string>>& axes) {
    std::vector<std::vector<std::string>> points{{}};
    for (const auto& values : axes) {  // the last parameter varies fastest, like nested loops in file order
        std::vector<std::vector<std::string>> next;
        for (const auto& point : points)
            for (const auto& value : values) {
                next.push_back(point);
                next.back().push_back(value);
            }
        points = std::move(next);
    }
    return points;
}

// random / latin_hypercube: {samples: n, parameters: {key: {low, high, scale: linear|log, integer: false}}}
// Adds a swept key path, checked where the sweep names it (`key`, under `path`).
void add_parameter(const Reader& r, const Node& key, const std::string& path, SweepSpec& sweep) {
    const auto name = r.text(key, path);
    const auto where = child_path(path, name);
    if (name == "simulation.seed")
        r.fail(key, where, "a run's seed is derived from simulation.seed and its replicate, so a swept seed would be ignored",
               "remove it from the sweep: sweep.replicates sets how many seeds each point runs");
    if (within(name, "sweep")) r.fail(key, where, "a sweep cannot vary its own settings", "set them in the sweep section itself");
    for (const auto& other : sweep.parameters) {
        if (name == other) r.fail(key, where, "the parameter '" + name + "' appears twice", "keep one of them");
        if (within(name, other) || within(other, name))
            r.fail(key, where, "'" + name + "' and '" + other + "' overlap: one would set what the other sets", "sweep one of them");
    }
    sweep.parameters.push_back(name);
}

void sample_points(const Reader& r, const Node& node, const std::string& path, bool latin, std::uint64_t seed, SweepSpec& sweep) {
    r.check_map(node, path, {"samples", "parameters"});
    r.require(node, path, "samples", "samples: 100");
    r.require(node, path, "parameters", "parameters: {\"firms[0].control_customers\": {low: 0, high: 1}}");
    const auto samples = r.integer(node["samples"], child_path(path, "samples"), 1, static_cast<double>(max_sweep_runs));
    const Node parameters = node["parameters"];
    const auto parameters_path = child_path(path, "parameters");
    if (!parameters.IsMap() || parameters.size() == 0)
        r.fail(parameters, parameters_path, "expected a mapping of parameters to ranges", "e.g. behaviour.trust_lambda: {low: 0.5, high: 2, scale: log}");
    sweep.points.assign(static_cast<std::size_t>(samples), {});
    std::uint64_t k = 0;
    for (const auto& item : parameters) {
        add_parameter(r, item.first, parameters_path, sweep);
        const auto key = sweep.parameters.back();
        const auto range_path = child_path(parameters_path, key);
        const Node range = item.second;
        r.check_map(range, range_path, {"low", "high", "scale", "integer"});
        r.require(range, range_path, "low", "low: 0");
        r.require(range, range_path, "high", "high: 1");
        const double low = r.number(range["low"], child_path(range_path, "low"), -unbounded, unbounded);
        const double high = r.number(range["high"], child_path(range_path, "high"), low, unbounded);
        static constexpr std::string_view scales[] = {"linear", "log"};
        const bool log = range["scale"] && r.choice(range["scale"], child_path(range_path, "scale"), scales) == "log";
        if (log && low <= 0) r.fail(range["low"], child_path(range_path, "low"), "a log scale needs low > 0", "use a positive low or scale: linear");
        const bool integer = range["integer"] && r.boolean(range["integer"], child_path(range_path, "integer"));  // for counts
        // Whole numbers are drawn with equal weight (linear scale) from [ceil(low), floor(high)]: a value drawn
        // from [ceil(low), floor(high) + 1) is rounded down.
        const double first = integer ? std::ceil(low) : low, last = integer ? std::floor(high) : high;
        if (integer && first > last)
            r.fail(range["integer"], child_path(range_path, "integer"), "no whole number lies between low " + format_number(low) + " and high " + format_number(high),
                   "widen the range to include one, or remove integer: true");
        const double top = integer ? last + 1 : last;
        // Latin hypercube: each parameter's samples fall one in each of `samples` equal strata, in a random order.
        std::vector<std::uint64_t> stratum(static_cast<std::size_t>(samples));
        for (std::size_t i = 0; i < stratum.size(); ++i) stratum[i] = i;
        Stream shuffle(seed, Phase::sweep, 2 * k + 1, 0);
        if (latin)
            for (std::size_t i = stratum.size(); i > 1; --i) std::swap(stratum[i - 1], stratum[shuffle.below(i)]);
        for (std::size_t p = 0; p < stratum.size(); ++p) {
            Stream rng(seed, Phase::sweep, 2 * k, p);
            const double u = latin ? (static_cast<double>(stratum[p]) + rng.uniform()) / static_cast<double>(samples) : rng.uniform();
            const double value = log ? std::exp(std::log(first) + u * (std::log(top) - std::log(first))) : first + u * (top - first);
            sweep.points[p].push_back(format_number(integer ? std::min(last, std::floor(value)) : value));
        }
        ++k;
    }
}

// A swept network.file's values made absolute, in the points and in the section as the sweep stores it (its
// identity, OUTDIR/scenario.yaml), so that the stored scenario reads the same files from the sweep's folder.
void resolve_swept_files(Node& section, const std::string& method, const std::string& base_dir, SweepSpec& sweep) {
    const auto k = std::find(sweep.parameters.begin(), sweep.parameters.end(), "network.file") - sweep.parameters.begin();
    if (k == static_cast<std::ptrdiff_t>(sweep.parameters.size())) return;
    for (std::size_t p = 0; p < sweep.points.size(); ++p) {
        auto& value = sweep.points[p][static_cast<std::size_t>(k)];
        const Node written = YAML::Load(value);
        if (!written.IsScalar() || written.Scalar().empty()) continue;  // refused when the point loads
        value = YAML::Dump(Node(read_from(base_dir, written.Scalar())));
        if (method == "points") section["points"][p]["network.file"] = YAML::Load(value);
    }
    if (method == "grid")
        for (std::size_t i = 0; i < section["grid"]["network.file"].size(); ++i)
            if (Node v = section["grid"]["network.file"][i]; v.IsScalar() && !v.Scalar().empty()) v = read_from(base_dir, v.Scalar());
}

SweepSpec read_sweep(const Reader& r, const Node& node, std::uint64_t seed, const std::string& base_dir) {
    SweepSpec sweep;
    if (!node) {
        sweep.points = {{}};
        return sweep;
    }
    static const std::vector<std::string_view> methods = {"grid", "points", "random", "latin_hypercube"};
    r.check_map(node, "sweep", {"replicates", "grid", "points", "random", "latin_hypercube"});
    if (node["replicates"]) sweep.replicates = r.integer(node["replicates"], "sweep.replicates", 1, static_cast<double>(max_sweep_runs));
    for (const auto method : methods) {
        if (!node[std::string(method)]) continue;
        if (sweep.method != "single") r.fail(node[std::string(method)], child_path("sweep", method), "a sweep has one method, found " + sweep.method + " and " + std::string(method), "keep one of them (use points: for an explicit list)");
        sweep.method = method;
    }
    const auto path = child_path("sweep", sweep.method);
    const Node body = node[sweep.method];
    if (sweep.method == "single") {
        sweep.points = {{}};
    } else if (sweep.method == "grid") {
        if (!body.IsMap() || body.size() == 0) r.fail(body, path, "expected a mapping of parameters to lists of values", "e.g. grid: {customers.opportunist_share: [0.02, 0.1, 0.3]}");
        std::vector<std::vector<std::string>> axes;
        for (const auto& item : body) {
            add_parameter(r, item.first, path, sweep);
            if (!item.second.IsSequence() || item.second.size() == 0)
                r.fail(item.second, child_path(path, sweep.parameters.back()), "expected a non-empty list of values", "write [value, value, ...]");
            axes.emplace_back();
            for (std::size_t i = 0; i < item.second.size(); ++i) {
                auto value = YAML::Dump(item.second[i]);
                if (const auto earlier = std::find(axes.back().begin(), axes.back().end(), value); earlier != axes.back().end())
                    r.fail(item.second[i], child_path(path, sweep.parameters.back()),
                           "the value " + value + " appears twice (items " + std::to_string(earlier - axes.back().begin()) + " and " + std::to_string(i) +
                               "): its runs would repeat those of the first, bit for bit (a replicate's seed is the same at every point)",
                           "remove one; for more runs of each point raise sweep.replicates");
                axes.back().push_back(std::move(value));
            }
        }
        double size = 1;
        for (const auto& axis : axes) size *= static_cast<double>(axis.size());
        if (size * static_cast<double>(sweep.replicates) > max_sweep_runs) r.fail(body, path, "the grid has too many runs", "use fewer values or replicates");
        sweep.points = cartesian(axes);
    } else if (sweep.method == "points") {
        if (!body.IsSequence() || body.size() == 0) r.fail(body, path, "expected a list of points", "e.g. points: [{trust_first: 0.5}, ...]");
        std::map<std::vector<std::string>, std::size_t> seen;  // each point's values, to the first point that has them
        for (std::size_t p = 0; p < body.size(); ++p) {
            const auto point_path = index_path(path, p);
            if (!body[p].IsMap()) r.fail(body[p], point_path, "expected a mapping of parameters to values", "write {key.path: value, ...}");
            std::vector<std::string> values;
            std::vector<std::string> keys;
            for (const auto& item : body[p]) {
                if (p == 0) add_parameter(r, item.first, point_path, sweep);
                keys.push_back(r.text(item.first, point_path));
                values.push_back(YAML::Dump(item.second));
            }
            if (keys != sweep.parameters) r.fail(body[p], point_path, "every point must set the same parameters, in the same order, as the first", "add or reorder keys");
            if (const auto [earlier, added] = seen.try_emplace(values, p); !added)
                r.fail(body[p], point_path,
                       "this point is point " + std::to_string(earlier->second) + " again: its runs would repeat that point's, bit for bit (a replicate's seed is the same at every point)",
                       "remove one; for more runs of each point raise sweep.replicates");
            sweep.points.push_back(std::move(values));
        }
    } else {
        sample_points(r, body, path, sweep.method == "latin_hypercube", seed, sweep);
    }
    if (sweep.runs() > max_sweep_runs) r.fail(node, "sweep", "the sweep has " + std::to_string(sweep.runs()) + " runs", "keep it under " + std::to_string(max_sweep_runs));
    Node stored = YAML::Clone(node);
    resolve_swept_files(stored, sweep.method, base_dir, sweep);
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "sweep" << YAML::Value << stored << YAML::EndMap;
    sweep.resolved_yaml = std::string(out.c_str()) + "\n";
    return sweep;
}

// Where the sweep section names `parameter` (for the given point, in a list of points).
// Where a sweep gives a parameter its value at a point: the node, and the path of the mapping that holds it.
std::pair<Node, std::string> sweep_parameter(const Node& sweep, const std::string& method, std::int64_t point, const std::string& parameter) {
    if (method == "grid") return {sweep["grid"][parameter], "sweep.grid"};
    if (method == "points") return {sweep["points"][static_cast<std::size_t>(point)][parameter], index_path("sweep.points", static_cast<std::size_t>(point))};
    return {sweep[method]["parameters"][parameter], "sweep." + method + ".parameters"};
}

std::vector<std::string> point_overrides(const SweepSpec& sweep, std::int64_t point) {
    std::vector<std::string> overrides;
    for (std::size_t k = 0; k < sweep.parameters.size(); ++k)
        overrides.push_back(sweep.parameters[k] + "=" + sweep.points[static_cast<std::size_t>(point)][k]);
    return overrides;
}

}  // namespace

std::string format_error(const UserError& error) {
    const auto& w = error.where();
    std::string text;
    if (!w.file.empty()) {
        text = w.file;
        if (w.line > 0) text += ":" + std::to_string(w.line) + (w.column > 0 ? ":" + std::to_string(w.column) : "");
        text += ": ";
    }
    if (!w.key_path.empty() && w.file != "--set " + w.key_path) text += w.key_path + ": ";  // not "--set x: x: ..."
    text += error.problem();
    if (!error.fix().empty()) text += ". Fix: " + error.fix();
    return text;
}

std::vector<Edge> read_edge_list(const std::string& path, std::int64_t customers) {
    std::ifstream in(path);
    if (!in) throw UserError({path, 0, 0, "network.file"}, "cannot open the edge list", "check the path; relative paths are read from the scenario's folder");
    std::vector<Edge> edges;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const auto content = line.substr(0, line.find('#'));
        std::istringstream fields(content);
        std::int64_t a = 0, b = 0;
        std::string rest;
        if (!(fields >> a)) {
            if (content.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank or comment
            throw UserError({path, number, 0, "network.file"}, "cannot read '" + line + "' as an edge", "write two customer ids per line, e.g. '0 17'");
        }
        if (!(fields >> b) || (fields >> rest))
            throw UserError({path, number, 0, "network.file"}, "cannot read '" + line + "' as an edge", "write exactly two customer ids per line, e.g. '0 17'");
        if (a < 0 || b < 0 || a >= customers || b >= customers)
            throw UserError({path, number, 0, "network.file"}, "customer id out of range in '" + line + "'",
                            "ids run from 0 to customers.count - 1 = " + std::to_string(customers - 1));
        if (a == b) throw UserError({path, number, 0, "network.file"}, "self-loop " + std::to_string(a) + " - " + std::to_string(b), "remove the line: a customer does not talk to itself");
        edges.push_back({static_cast<std::int32_t>(a), static_cast<std::int32_t>(b)});
    }
    return edges;  // duplicates (in either direction) are merged when the network is built
}

namespace {

// What a load is for: a scenario as given (its sweep read and every point checked, its resolved text, the
// --set options the user's), or one run of it (a sweep point's check, a sweep's run: the spec alone).
enum class Loading { scenario, one_run };

LoadedScenario load(std::string_view text, const std::string& name, const std::vector<std::string>& overrides, const std::string& base_dir,
                    Loading purpose, EdgeLists* points_edge_lists = nullptr) {
    const bool with_sweep = purpose == Loading::scenario;
    EdgeLists own_edge_lists;
    auto& edge_lists = points_edge_lists ? *points_edge_lists : own_edge_lists;
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        throw UserError({name, 0, 0, ""}, "the scenario is empty", "start from scenarios/baseline.yaml");
    Node root;
    try {
        if (with_sweep) {  // once: a sweep's runs and points read the same text again
            std::istringstream stream{std::string(text)};
            YAML::Parser parser(stream);
            ExpandedSize size;
            while (size.documents <= 1 && parser.HandleNextDocument(size)) {}  // stop at a second document
            if (size.documents > 1)
                throw UserError({name, 0, 0, ""}, "the file holds more than one YAML document",
                                "keep one scenario per file: remove '---' separators and check the indentation of the top-level keys");
            if (size.total > max_yaml_nodes)
                throw UserError({name, 0, 0, ""}, "the scenario expands to more than " + std::to_string(max_yaml_nodes) + " YAML nodes (through nested aliases)",
                                "remove the aliases (*name) that repeat large anchors; a scenario needs a few hundred nodes");
        }
        root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        std::string line, error_line;
        std::istringstream lines{std::string(text)};
        int tab_indented = 0;  // the first line up to the error indented with a tab, which YAML forbids (comments may be)
        for (int number = 1; number <= e.mark.line + 1 && std::getline(lines, line); ++number) {
            error_line = line;
            const auto text = line.find_first_not_of(" \t");
            if (tab_indented == 0 && text != std::string::npos && line[text] != '#' && line.find('\t') < text) tab_indented = number;
        }
        // Inside {...}, an unquoted key such as firms[0].price reads as the start of a list.
        const auto brace = error_line.find('{');
        bool bracketed_key = false;
        for (auto at = error_line.find('[', brace); brace != std::string::npos && at != std::string::npos; at = error_line.find('[', at + 1))
            bracketed_key = bracketed_key || std::isalnum(static_cast<unsigned char>(error_line[at - 1])) || error_line[at - 1] == '_';
        const std::string fix =
            tab_indented > 0 ? "indent with spaces: line " + std::to_string(tab_indented) + " is indented with a tab, which YAML does not allow"
            : bracketed_key  ? "quote keys that contain brackets inside {...}, e.g. {'firms[0].trust_first': 0.9}; otherwise check that brackets and quotes match"
                             : "fix the syntax at this position (indentation, ':' after keys, matching brackets and quotes)";
        throw UserError({name, e.mark.line + 1, e.mark.column + 1, ""}, "YAML syntax error: " + e.msg, fix);
    }
    std::vector<std::string> overridden;
    if (!overrides.empty() && !root.IsMap()) root = Node(YAML::NodeType::Map);
    for (std::size_t i = 0; i < overrides.size(); ++i) {
        overridden.push_back(apply_override(root, overrides[i]));
        // The user's --set options (a sweep point's own come after them, and replace them on purpose). A key
        // inside a section set earlier refines it, unless that section's value gives the key too; the same key
        // again, or its section, would discard the earlier.
        for (std::size_t earlier = 0; with_sweep && earlier < i; ++earlier)
            if (within(overridden[earlier], overridden[i]) || override_sets(overrides[earlier], overridden[i]))
                throw UserError({"--set " + overrides[i], 0, 0, overridden[i]}, "it replaces what --set " + overrides[earlier] + " sets, which would be lost",
                                "keep one of them, or write both in one --set (e.g. --set \"customers={count: 5000, opportunist_share: 0.2}\")");
    }
    const Reader reader(name, std::move(overridden), edge_lists);
    LoadedScenario loaded{read_spec(reader, root, base_dir), {}, {}, std::string(text), name, base_dir, overrides};
    if (with_sweep) loaded.resolved_yaml = resolved_yaml(loaded.spec);
    if (!with_sweep) return loaded;
    loaded.sweep = read_sweep(reader, root["sweep"], static_cast<std::uint64_t>(loaded.spec.simulation.seed), base_dir);
    const auto scenario_firms = loaded.spec.firm_names();  // a sweep's runs share one list of firms (a merged file has one)
    for (std::int64_t p = 0; p < static_cast<std::int64_t>(loaded.sweep.points.size()); ++p) {
        auto point = overrides;
        for (auto& o : point_overrides(loaded.sweep, p)) point.push_back(std::move(o));
        ModelSpec spec;
        try {
            spec = load(text, name, point, base_dir, Loading::one_run, &edge_lists).spec;
        } catch (const UserError& e) {
            // A bad parameter is reported where the sweep names it, with the value this point gave it.
            const auto& parameters = loaded.sweep.parameters;
            for (std::size_t k = 0; k < parameters.size(); ++k)
                if (e.where().file == "--set " + parameters[k]) {
                    std::string fix = e.fix();
                    if (loaded.sweep.method == "random" || loaded.sweep.method == "latin_hypercube")
                        if (e.problem().starts_with(whole_number_expected)) fix = "add integer: true to its range, to sample whole numbers";
                    const auto [node, written_at] = sweep_parameter(root["sweep"], loaded.sweep.method, p, parameters[k]);
                    throw UserError(reader.where(node, e.where().key_path, written_at),
                                    "at point " + std::to_string(p) + " (" + parameters[k] + " = " + loaded.sweep.points[static_cast<std::size_t>(p)][k] + "): " + e.problem(),
                                    fix);
                }
            // Elsewhere (an event past a swept number of steps, say): the point's values, where and what, and its fix.
            reader.fail(root["sweep"], "sweep", "point " + std::to_string(p) + " (" + join(point) + ") is not a valid scenario: " +
                        format_error(UserError(e.where(), e.problem(), "")), e.fix());
        }
        loaded.sweep.point_memory.push_back(Simulation::estimated_memory(spec, Simulation::Snapshots::none));  // a sweep's runs record no snapshots
        if (const auto& file = spec.network.file; spec.network.edges && file != loaded.spec.network.file) {
            auto& lists = loaded.sweep.point_edge_lists;
            if (std::none_of(lists.begin(), lists.end(), [&](const auto& list) { return list.first == file; })) lists.emplace_back(file, spec.network.edges);
        }
        if (spec.firm_names() != scenario_firms) {
            const auto& parameters = loaded.sweep.parameters;
            const auto firms = std::find_if(parameters.begin(), parameters.end(), [](const std::string& k) { return within(k, "firms"); });
            const auto [node, written_at] = sweep_parameter(root["sweep"], loaded.sweep.method, p, firms == parameters.end() ? parameters.front() : *firms);
            throw UserError(reader.where(node, "sweep", written_at),
                        "point " + std::to_string(p) + " has the firms " + join(spec.firm_names()) + ", not " + join(scenario_firms) +
                            " as the scenario: a sweep's runs must have the same firms",
                        "sweep the firms' settings (e.g. firms[0].control_customers), not their names, number or copies");
        }
    }
    return loaded;
}

}  // namespace

LoadedScenario load_scenario_text(std::string_view text, const std::string& name, const std::vector<std::string>& overrides,
                                  const std::string& base_dir) {
    return load(text, name, overrides, base_dir, Loading::scenario);
}

SweepRun sweep_run(const LoadedScenario& scenario, std::int64_t run) {
    const auto replicates = scenario.sweep.replicates;
    const auto replicate = run % replicates;
    // 53 bits: a seed must survive a round trip through YAML and double-precision readers.
    const auto seed = derive_seed(static_cast<std::uint64_t>(scenario.spec.simulation.seed), static_cast<std::uint64_t>(replicate)) >> 11;
    return {run, run / replicates, replicate, seed};
}

LoadedScenario load_sweep_run(const LoadedScenario& scenario, std::int64_t run) {
    const auto r = sweep_run(scenario, run);
    auto overrides = scenario.overrides;
    for (auto& o : point_overrides(scenario.sweep, r.point)) overrides.push_back(std::move(o));
    overrides.push_back("simulation.seed=" + std::to_string(r.seed));
    return load(scenario.text, scenario.name, overrides, scenario.base_dir, Loading::one_run);
}

LoadedScenario load_scenario_file(const std::string& path, const std::vector<std::string>& overrides) {
    std::error_code error;
    const auto status = fs::status(path, error);
    if (error && error != std::errc::no_such_file_or_directory)
        throw UserError({path, 0, 0, ""}, "cannot read the scenario file: " + error.message(), "check the path and its permissions");
    if (!fs::exists(status)) throw UserError({path, 0, 0, ""}, "there is no scenario file here", "check the path");
    if (fs::is_directory(status)) throw UserError({path, 0, 0, ""}, "this is a folder, not a scenario file", "name the scenario file, e.g. scenarios/baseline.yaml");
    // Read, not sized first: a pipe (run <(generate)) has no size; reading stops within a chunk of the limit.
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UserError({path, 0, 0, ""}, std::string("cannot read the scenario file: ") + std::strerror(errno), "check its permissions");
    std::string text;
    std::array<char, 1 << 16> chunk{};
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
        text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_scenario_bytes)
            throw UserError({path, 0, 0, ""}, "the scenario file is larger than " + std::to_string(max_scenario_bytes >> 20) + " MiB, far larger than any scenario",
                            "check that this is the scenario (networks go in a separate edge-list file)");
    }
    if (in.bad()) throw UserError({path, 0, 0, ""}, "cannot read the scenario file", "check the file and its permissions");
    if (text.starts_with("\x89HDF\r\n\x1a\n"))
        throw UserError({path, 0, 0, ""}, "this is an HDF5 file (a result?), not a scenario", "give the scenario's YAML file; `trustsim info " + path + "` describes a result");
    // Relative paths in it (an edge list) are read from its folder; from the current one for a pipe's.
    const auto folder = fs::is_regular_file(status) ? fs::path(path).parent_path().string() : std::string(".");
    return load_scenario_text(text, path, overrides, folder);
}

bool override_sets(const std::string& assignment, const std::string& key_path) {
    const auto at = assignment.find('=');
    const auto set = assignment.substr(0, at);
    if (at == std::string::npos || !within(key_path, set)) return false;
    Node node;
    try {
        node = YAML::Load(assignment.substr(at + 1));
    } catch (const YAML::Exception&) {
        return false;  // refused, with its own message, when the scenario loads
    }
    const std::string rest = key_path.substr(set.size());  // ".key...", "[i]..." or empty
    for (std::size_t i = 0; i < rest.size();) {
        const Node& here = node;  // read through a const node: a non-const operator[] would add the key
        if (rest[i] == '.') {
            const auto end = std::min(rest.find_first_of(".[", i + 1), rest.size());
            const auto key = rest.substr(i + 1, end - i - 1);
            if (!here.IsMap() || !here[key]) return false;
            node.reset(here[key]);
            i = end;
        } else if (rest[i] == '[') {
            const auto close = rest.find(']', i);
            std::size_t index = 0;
            if (close == std::string::npos || std::from_chars(rest.data() + i + 1, rest.data() + close, index).ec != std::errc() ||
                !here.IsSequence() || index >= here.size())
                return false;
            node.reset(here[index]);
            i = close + 1;
        } else {
            return false;
        }
    }
    return true;
}

std::string memory_text(double bytes) {
    if (bytes < (1 << 30)) return format_number(std::max(1.0, std::round(bytes / (1 << 20)))) + " MiB";
    return format_number(std::round(bytes / (1 << 30) * 10) / 10) + " GiB";
}

namespace {

// `threads` of each of `concurrent` runs; the fix names what takes the most: the population or the threads' scratch.
void check_memory(const std::string& scenario, const MemoryEstimate& run, int threads, const std::string& which, int concurrent,
                  const std::string& threads_option) {
    const double needed = run.bytes(threads) * concurrent;
    const double physical = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    if (physical > 0 && needed > 0.9 * physical) {
        const bool scratch = run.per_thread * threads > run.shared;
        throw UserError({scenario, 0, 0, scratch ? "network.mean_degree" : "customers.count"},
                        which + " would need about " + memory_text(needed) + " of memory, and this machine has " + memory_text(physical),
                        (scratch ? "use fewer threads (" + threads_option + "; each holds its listeners' contacts) or fewer well-mixed contacts (network.mean_degree)"
                                 : std::string("reduce customers.count or network.mean_degree")) +
                            (concurrent > 1 ? ", or run fewer runs at once (--jobs)" : ""));
    }
}

}  // namespace

void check_fits_in_memory(const LoadedScenario& scenario, int threads) {
    check_memory(scenario.name, Simulation::estimated_memory(scenario.spec), threads, "the run", 1, "--threads");
}

std::int64_t largest_sweep_point(const LoadedScenario& scenario, int threads_per_run) {
    const auto& points = scenario.sweep.point_memory;
    if (points.empty()) return -1;
    return std::max_element(points.begin(), points.end(), [&](const MemoryEstimate& a, const MemoryEstimate& b) {
               return a.bytes(threads_per_run) < b.bytes(threads_per_run);
           }) -
           points.begin();
}

void check_sweep_fits_in_memory(const LoadedScenario& scenario, int concurrent, int threads_per_run) {
    const auto largest = largest_sweep_point(scenario, threads_per_run);
    if (largest < 0) return;
    const auto runs = std::max(1, concurrent);
    check_memory(scenario.name, scenario.sweep.point_memory[static_cast<std::size_t>(largest)], threads_per_run,
                 (scenario.sweep.parameters.empty() ? std::string("the run") : "a run of sweep point " + std::to_string(largest)) +
                     (runs > 1 ? ", " + std::to_string(runs) + " at once," : ""),
                 runs, "--threads-per-run");
}

std::string resolved_yaml(const ModelSpec& spec) {
    YAML::Emitter out;
    out << YAML::Comment(std::string("resolved by trustsim ") + version + ": every default filled in") << YAML::Newline;
    out << YAML::BeginMap;
    if (!spec.description.empty()) out << YAML::Key << "description" << YAML::Value << spec.description;
    out << YAML::Key << "simulation" << YAML::Value << YAML::BeginMap;
    emit_fields(out, spec.simulation);
    out << YAML::EndMap << YAML::Key << "customers" << YAML::Value << YAML::BeginMap;
    emit_fields(out, spec.customers);
    emit_agents(out, spec.customers.dispositions, spec.customers.initial_perception);
    out << YAML::EndMap << YAML::Key << "employees" << YAML::Value << YAML::BeginMap;
    emit_agents(out, spec.employees.dispositions, spec.employees.initial_perception);
    out << YAML::EndMap << YAML::Key << "firms" << YAML::Value << YAML::BeginSeq;
    for (const auto& firm : spec.firms) {
        out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << firm.name;
        emit_fields(out, firm);
        out << YAML::Key << "adaptive_control" << YAML::Value << YAML::BeginMap;
        emit_fields(out, firm.adaptive_control);
        out << YAML::EndMap << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::Key << "behaviour" << YAML::Value << YAML::BeginMap;
    emit_fields(out, spec.behaviour);
    out << YAML::EndMap << YAML::Key << "network" << YAML::Value << YAML::BeginMap << YAML::Key << "type" << YAML::Value
        << std::string(network_kinds[static_cast<std::size_t>(spec.network.kind)]);
    using Kind = NetworkSpec::Kind;
    if (spec.network.kind != Kind::none && spec.network.kind != Kind::edge_list)
        out << YAML::Key << "mean_degree" << YAML::Value << format_number(spec.network.mean_degree);
    if (spec.network.kind == Kind::watts_strogatz) out << YAML::Key << "rewire" << YAML::Value << format_number(spec.network.rewire);
    if (spec.network.kind == Kind::edge_list) out << YAML::Key << "file" << YAML::Value << spec.network.file;
    out << YAML::EndMap << YAML::Key << "record" << YAML::Value << YAML::BeginMap;
    emit_fields(out, spec.record);
    out << YAML::EndMap << YAML::Key << "events" << YAML::Value << YAML::BeginSeq;
    for (const auto& event : spec.events) {
        out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << std::string(event_kinds[static_cast<std::size_t>(event.kind)]) << YAML::Key
            << "step" << YAML::Value << std::to_string(event.step) << YAML::Key << "firm" << YAML::Value
            << spec.firms[static_cast<std::size_t>(event.firm)].name;
        switch (event.kind) {
            case Event::Kind::policy:
                out << YAML::Key << "set" << YAML::Value << YAML::BeginMap;
                for (const auto& field : FirmSpec::fields)
                    for (const auto& change : event.changes)
                        if (const auto* member = std::get_if<double FirmSpec::*>(&change.field); member && field.member == Field<FirmSpec>::Member(*member))
                            out << YAML::Key << std::string(field.name) << YAML::Value << format_number(change.value);
                if (std::any_of(event.changes.begin(), event.changes.end(), [](const PolicyChange& c) { return c.field.index() == 1; })) {
                    out << YAML::Key << "adaptive_control" << YAML::Value << YAML::BeginMap;
                    for (const auto& field : AdaptiveControl::fields)
                        for (const auto& change : event.changes)
                            if (change.field == PolicyChange::Target(field.member)) {
                                out << YAML::Key << std::string(field.name) << YAML::Value;
                                std::visit([&](auto m) { emit_value(out, static_cast<std::remove_cvref_t<decltype(AdaptiveControl{}.*m)>>(change.value)); },
                                           field.member);
                            }
                    out << YAML::EndMap;
                }
                out << YAML::EndMap;
                break;
            case Event::Kind::scandal:
                out << YAML::Key << "duration" << YAML::Value << std::to_string(event.duration) << YAML::Key << "media" << YAML::Value
                    << format_number(event.media) << YAML::Key << "contagion" << YAML::Value << format_number(event.contagion) << YAML::Key
                    << "per_contact" << YAML::Value;
                emit_value(out, event.per_contact);
                [[fallthrough]];
            case Event::Kind::breach: out << YAML::Key << "size" << YAML::Value << format_number(event.size); break;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap << YAML::Newline;
    return out.c_str();
}

std::string scenario_reference() {
    const ModelSpec defaults;
    const NetworkSpec network;
    const Event event;
    std::string text;
    text += reference_table("simulation", defaults.simulation);
    text += reference_table("customers", defaults.customers, disposition_rows(defaults.customers.dispositions, "customer"));
    text += "### `employees`\n\n| key | default | allowed | unit | meaning |\n|---|---|---|---|---|\n" +
            disposition_rows(defaults.employees.dispositions, "employee") + "\n";
    text += reference_table("firms[]", FirmSpec{},
                            reference_row("name", "(required)", "unique text", "", "the firm's name, used by events and in outputs") +
                                reference_row("copies", "1", "1 … 10000", "firms", "repeat this firm; copies are named name-1, name-2, ...") +
                                reference_row("adaptive_control", "(see below)", "mapping", "", "adaptive control of customers"));
    text += reference_table("firms[].adaptive_control", AdaptiveControl{});
    text += reference_table("behaviour", defaults.behaviour);
    text += "### `network`\n\n| key | default | allowed | unit | meaning |\n|---|---|---|---|---|\n" +
            reference_row("type", std::string(network_kinds[static_cast<std::size_t>(network.kind)]), join(std::vector<std::string_view>(std::begin(network_kinds), std::end(network_kinds))), "",
                          "who hears whose word of mouth") +
            reference_row("mean_degree", format_number(network.mean_degree), "well_mixed 1 … " + format_number(max_contacts) + "; erdos_renyi 0 … customers - 1; watts_strogatz, barabasi_albert even, 2 … customers - 1", "contacts",
                          "well_mixed: contacts drawn per step; other types: mean degree of the network") +
            reference_row("rewire", format_number(network.rewire), "0 … 1", "probability", "watts_strogatz only: rewiring probability") +
            reference_row("file", "(required for edge_list)", "path", "", "edge_list only: edge-list file, relative to the scenario") + "\n";
    text += reference_table("record", defaults.record);
    text += "### `events[]`\n\n| key | default | allowed | unit | meaning |\n|---|---|---|---|---|\n" +
            reference_row("type", "(required)", "policy, breach, scandal", "", "what happens") +
            reference_row("step", "(required)", "0 … simulation.steps - 1", "step", "when it starts (steps count from 0)") +
            reference_row("firm", "(required)", "a firm's name", "", "the firm it concerns") +
            reference_row("set", "(required for policy)", "mapping of firms[] numeric keys and adaptive_control", "", "policy: the firm's new values") +
            reference_row("size", format_number(event.size), "0 … 1", "", "breach: R <- R (1 - size); scandal: C <- C (1 - size) on becoming aware") +
            reference_row("duration", std::to_string(event.duration), "≥ 1", "steps", "scandal: how long it spreads") +
            reference_row("media", format_number(event.media), "0 … 1", "1/step", "scandal: p, awareness hazard through media") +
            reference_row("contagion", format_number(event.contagion), "0 … 1", "1/step", "scandal: q, awareness hazard when every contact is aware") +
            reference_row("per_contact", event.per_contact ? "true" : "false", "true, false", "",
                          "scandal: q is each aware contact's chance to pass it on (independent cascade), not q x the aware share (Bass)") + "\n";
    return text;
}

}  // namespace trustsim::io
