// containerd 1.6's filter language: matching and the exact parse errors
// (clients show them verbatim).
#include "pkg/filters.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "pkg/errdefs.h"

namespace mcd {
namespace {

struct Entry {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string other;
};

// An adaptor in containerd's usual shape: labels joined back with '.'.
filters::Adaptor Adapt(const Entry& e) {
  return [&e](const std::vector<std::string>& path) -> std::optional<std::string> {
    if (path.empty()) return std::nullopt;
    if (path[0] == "name" && !e.name.empty()) return e.name;
    if (path[0] == "other" && !e.other.empty()) return e.other;
    if (path[0] == "labels" && path.size() > 1) {
      std::string key = path[1];
      for (size_t i = 2; i < path.size(); i++) key += "." + path[i];
      auto it = e.labels.find(key);
      if (it != e.labels.end()) return it->second;
    }
    return std::nullopt;
  };
}

const std::vector<Entry>& Corpus() {
  static const std::vector<Entry> c = {
      {"foo", {{"foo", "true"}}, ""},                                          // 0
      {"bar", {}, ""},                                                         // 1
      {"foo", {{"foo", "present"}, {"more complex label", "present"}}, ""},    // 2
      {"bar", {{"bar", "true"}}, ""},                                          // 3
      {"fooer", {{"more complex label with \\ and \"", "present"}}, ""},       // 4
      {"fooer", {{"more complex label with \\ and \".post", "present"}}, ""},  // 5
      {"baz", {}, "too complex, yo"},                                          // 6
      {"bazo", {}, "abc"},                                                     // 7
      {"compound", {{"foo", "omg_asdf.asdf-qwer"}}, ""},                       // 8
      {"dotted", {{"a.b", "c"}, {"io.containerd/x", "v=1"}}, ""},              // 9
  };
  return c;
}

std::vector<int> Matching(const filters::Filter& f) {
  std::vector<int> out;
  for (size_t i = 0; i < Corpus().size(); i++) {
    if (f.Match(Adapt(Corpus()[i]))) out.push_back(static_cast<int>(i));
  }
  return out;
}

std::vector<int> Select(std::string_view text) {
  return Matching(filters::Parse(text));
}

std::string ParseError(std::string_view text) {
  try {
    filters::Parse(text);
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument) << text;
    return e.what();
  }
  ADD_FAILURE() << "no error for " << text;
  return "";
}

using V = std::vector<int>;

TEST(Filters, EmptyMatchesEverything) {
  EXPECT_EQ(Select(""), (V{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(filters::Filter().Match([](const auto&) { return std::nullopt; }));
}

TEST(Filters, Presence) {
  EXPECT_EQ(Select("name"), (V{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(Select("labels.foo"), (V{0, 2, 8}));
  EXPECT_EQ(Select("labels.foo,name"), (V{0, 2, 8}));
  EXPECT_EQ(Select("other"), (V{6, 7}));
  EXPECT_EQ(Select("nosuch"), V{});
}

TEST(Filters, Equality) {
  EXPECT_EQ(Select("labels.foo==true"), V{0});
  EXPECT_EQ(Select("labels.foo==omg_asdf.asdf-qwer"), V{8});
  EXPECT_EQ(Select("name==bar"), (V{1, 3}));
  EXPECT_EQ(Select("name==bar,labels.bar"), V{3});
  EXPECT_EQ(Select("name==bar,labels.bar==true"), V{3});
  EXPECT_EQ(Select("name==bar,labels.bar==wrong"), V{});
  // Spaces around the operator are skipped.
  EXPECT_EQ(Select("name == bar"), (V{1, 3}));
}

TEST(Filters, NotEqualMatchesMissingField) {
  EXPECT_EQ(Select("name!=bar"), (V{0, 2, 4, 5, 6, 7, 8, 9}));
  // A missing field reads as "": != anything non-empty is true.
  EXPECT_EQ(Select("labels.foo!=true"), (V{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(Select("other!=\"\""), (V{6, 7}));
  // == never matches a missing field, even against "".
  EXPECT_EQ(Select("other==\"\""), V{});
}

TEST(Filters, QuotedValues) {
  EXPECT_EQ(Select("other==\"too complex, yo\""), V{6});
  EXPECT_EQ(Select(R"(name=="\x66oo")"), (V{0, 2}));
  EXPECT_EQ(Select(R"(name=="\u0066oo")"), (V{0, 2}));
  EXPECT_EQ(Select(R"(name=="\146oo")"), (V{0, 2}));
  // Bare values take any graphic character but ',' and space.
  EXPECT_EQ(Select("labels.\"io.containerd/x\"==v=1"), V{9});
}

TEST(Filters, QuotedFieldNames) {
  EXPECT_EQ(Select(R"(name==foo,labels."more complex label")"), V{2});
  EXPECT_EQ(Select(R"(labels."more complex label with \\ and \""==present)"), V{4});
  EXPECT_EQ(Select(R"(labels."more complex label with \\ and \"".post==present)"), V{5});
  EXPECT_EQ(Select(R"(labels."a.b"==c)"), V{9});
  // Unquoted dots split the path; the adaptor joins them back.
  EXPECT_EQ(Select("labels.a.b==c"), V{9});
}

TEST(Filters, Regexp) {
  EXPECT_EQ(Select("other~=[abc]+,name!=foo"), (V{6, 7}));
  EXPECT_EQ(Select("other~=/[abc]+/,name!=foo"), (V{6, 7}));
  EXPECT_EQ(Select("other~=/[abc]{1,2}/,name!=foo"), (V{6, 7}));
  EXPECT_EQ(Select("other~=|[abc]{1,2}|"), (V{6, 7}));
  EXPECT_EQ(Select("name~=^ba"), (V{1, 3, 6, 7}));
  EXPECT_EQ(Select("name~=^fo+$"), (V{0, 2}));
  EXPECT_EQ(Select("name~=\"o{2}e\""), (V{4, 5}));
  // Valid syntax that matches nothing (escaped '/' inside /.../).
  EXPECT_EQ(Select(R"(other~=/[abc]{0,1}"\//,name!=foo)"), V{});
  // A missing field is matched as "".
  EXPECT_EQ(Select("other~=^$"), (V{0, 1, 2, 3, 4, 5, 8, 9}));
  // Go/RE2 syntax: Perl classes and non-greedy operators.
  EXPECT_EQ(Select(R"(name~=\w+zo\b)"), (V{7}));
}

TEST(Filters, InvalidRegexpParsesButNeverMatches) {
  filters::Filter f = filters::Parse("name~=[");
  EXPECT_EQ(Matching(f), V{});
  EXPECT_EQ(Select("name~=(a"), V{});
}

TEST(Filters, ParseAllIsOr) {
  EXPECT_EQ(Matching(filters::ParseAll({"name==bar", "name==baz"})), (V{1, 3, 6}));
  EXPECT_EQ(Matching(filters::ParseAll({"name==bar,labels.bar", "other==abc"})), (V{3, 7}));
  EXPECT_EQ(Matching(filters::ParseAll({})), (V{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // An empty string among others is Always.
  EXPECT_EQ(Matching(filters::ParseAll({"name==nothing", ""})), (V{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Filters, PipeIsAQuoteNotOr) {
  // containerd has no '|' operator: it quotes a regexp, and inside a bare
  // value it is just a character.
  EXPECT_EQ(Select("name==foo|name==bar"), V{});
  EXPECT_EQ(ParseError("labels.|foo|==omg_asdf.asdf-qwer"),
            "filters: parse error: [labels. >|||< foo|==omg_asdf.asdf-qwer]: invalid quote "
            "encountered");
}

TEST(Filters, ParseAllErrorIsInvalidArgument) {
  try {
    filters::ParseAll({"name==foo", "name==foo,"});
    FAIL() << "no error";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument);
    EXPECT_STREQ(e.what(),
                 "filters: parse error: [name==foo,]: expected field or quoted: invalid argument");
  }
}

// containerd's containers, images and leases stores add their class again.
TEST(Filters, ParseAllWrappedAddsTheClassAgain) {
  try {
    filters::ParseAllWrapped({"id=="});
    FAIL() << "no error";
  } catch (const errdefs::Error& e) {
    EXPECT_EQ(e.code(), errdefs::Code::kInvalidArgument);
    EXPECT_STREQ(e.what(),
                 "filters: parse error: [id==]: expected value or quoted: invalid argument: "
                 "invalid argument");
  }
  EXPECT_TRUE(filters::ParseAllWrapped({}).Match(
      [](const std::vector<std::string>&) { return std::optional<std::string>(); }));
}

TEST(Filters, ErrorMessagesAsContainerd) {
  EXPECT_EQ(
      ParseError(R"(labels.?"more complex label with \\ and \"".post==present)"),
      R"(filters: parse error: [labels. >|?|< "more complex label with \\ and \"".post==present]: expected field or quoted)");
  EXPECT_EQ(ParseError("name==foo,"),
            "filters: parse error: [name==foo,]: expected field or quoted");
  EXPECT_EQ(ParseError("labels."), "filters: parse error: [labels.]: expected field or quoted");
  EXPECT_EQ(ParseError("image~=,id?=?fbaq"),
            "filters: parse error: [image~= >|,|< id?=?fbaq]: expected value or quoted");
  EXPECT_EQ(ParseError("labels.ns/key==value"),
            "filters: parse error: [labels.ns >|/|< key==value]: quoted literal not terminated");
  EXPECT_EQ(ParseError("labels.key==/value"),
            "filters: parse error: [labels.key== >|/|< value]: quoted literal not terminated");
}

TEST(Filters, MalformedInputs) {
  EXPECT_EQ(ParseError("name==="),
            R"(filters: parse error: [name >|=|< ==]: unsupported operator "===")");
  EXPECT_EQ(ParseError("name=foo"),
            R"(filters: parse error: [name >|=|< foo]: unsupported operator "=")");
  EXPECT_EQ(ParseError("name>foo"),
            R"(filters: parse error: [name >|>|< foo]: expected an operator ("=="|"!="|"~="))");
  EXPECT_EQ(ParseError("name=="), "filters: parse error: [name==]: expected value or quoted");
  EXPECT_EQ(ParseError("==foo"), "filters: parse error: [ >|=|< =foo]: expected field or quoted");
  EXPECT_EQ(ParseError(","), "filters: parse error: [ >|,|< ]: expected field or quoted");
  EXPECT_EQ(ParseError(" "), "filters: parse error: [ ]: expected field or quoted");
  // Only spaces before a token are skipped: a trailing one is unexpected.
  EXPECT_EQ(ParseError("name==foo bar"),
            "filters: parse error: [name==foo >| |< bar]: unexpected input:  ");
  EXPECT_EQ(ParseError(R"(name=="foo"x)"),
            R"(filters: parse error: [name=="foo" >|x|< ]: unexpected input: x)");
  // '-' is not a field character in 1.6.
  EXPECT_EQ(ParseError("labels.a-b"),
            R"(filters: parse error: [labels.a >|-|< b]: expected an operator ("=="|"!="|"~="))");
  // '/' and '|' quote only regular expressions.
  EXPECT_EQ(ParseError("name==/foo/"),
            "filters: parse error: [name== >|/|< foo/]: invalid quote encountered");
  EXPECT_EQ(ParseError(R"(name=="foo)"),
            R"(filters: parse error: [name== >|"|< foo]: quoted literal not terminated)");
  EXPECT_EQ(ParseError(R"(name=="f\qo")"),
            R"(filters: parse error: [name== >|"|< f\qo"]: illegal escape sequence)");
  EXPECT_EQ(ParseError(R"(name=="\xZZ")"),
            R"(filters: parse error: [name== >|"|< \xZZ"]: illegal numeric escape sequence)");
  // The scanner takes three octal digits; the value must still fit a byte.
  EXPECT_EQ(ParseError(R"(name=="\777")"),
            R"(filters: parse error: [name== >|"|< \777"]: unquoting failed: quote syntax error)");
  // (what() stops at the NUL the message quotes.)
  EXPECT_EQ(ParseError(std::string_view("name==\"a\0\"", 10)),
            "filters: parse error: [name== >|\"|< a");
  EXPECT_EQ(ParseError("name==\"a\xff\""),
            "filters: parse error: [name== >|\"|< a\xff\"]: rune error");
}

}  // namespace
}  // namespace mcd
