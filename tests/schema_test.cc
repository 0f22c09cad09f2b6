// The editor schema (deploy/schema/campaign.schema.json) and the parser accept the same keys and
// the same enumerated values: a key added to one and not the other fails here.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "campaigns/campaign_schema.h"
#include "test_util.h"

using nlohmann::json;

namespace {

// Walks the JSON schema the way campaign_key_tree() names sections.
void walk(const json& node, const std::string& path,
          std::map<std::string, std::set<std::string>>& keys,
          std::map<std::string, std::set<std::string>>& enums) {
    if (node.contains("enum")) enums[path] = node["enum"].get<std::set<std::string>>();
    if (node.value("type", "") == "object" && node.contains("properties")) {
        CHECK_MESSAGE(node.value("additionalProperties", true) == false,
                      "section '" << path << "' must refuse unknown keys in the schema too");
        auto& set = keys[path];
        for (const auto& [k, v] : node["properties"].items()) {
            set.insert(k);
            walk(v, path.empty() ? k : path + "." + k, keys, enums);
        }
    }
    if (node.contains("oneOf"))  // a list item written either as a word or as a mapping
        for (const auto& alternative : node["oneOf"]) walk(alternative, path, keys, enums);
    if (node.value("type", "") == "array" && node.contains("items"))
        walk(node["items"], path + "[]", keys, enums);
}

}  // namespace

TEST_CASE("the JSON schema and the parser know the same keys and values") {
    std::ifstream in(std::string(OUTPACE_SOURCE_DIR) + "/deploy/schema/campaign.schema.json");
    REQUIRE(in);
    json schema = json::parse(in);
    std::map<std::string, std::set<std::string>> keys, enums;
    walk(schema, "", keys, enums);

    std::map<std::string, std::set<std::string>> parser_keys;
    for (const auto& [section, list] : outpace::campaign_key_tree())
        parser_keys[section] = std::set<std::string>(list.begin(), list.end());
    for (const auto& [section, set] : parser_keys) {
        INFO("section '" << section << "'");
        REQUIRE(keys.count(section));
        CHECK(keys[section] == set);
    }
    for (const auto& [section, set] : keys) {
        INFO("schema section '" << section << "' has no parser counterpart");
        CHECK(parser_keys.count(section));
    }
    for (const auto& [path, values] : outpace::campaign_enums()) {
        INFO("enum '" << path << "'");
        REQUIRE(enums.count(path));
        CHECK(enums[path] == std::set<std::string>(values.begin(), values.end()));
    }
}
