// Lexer: logical lines with continuations and comments, words with quoting, positions.
#include <gtest/gtest.h>

#include "frontend/lexer.h"

namespace c2w::frontend {
namespace {

std::vector<std::string> texts(const std::vector<Word>& words) {
  std::vector<std::string> out;
  for (const Word& w : words) out.push_back(w.text);
  return out;
}

std::vector<Word> words_of(std::string_view text) {
  std::vector<Line> lines = split_lines(text, "recipe");
  EXPECT_EQ(lines.size(), 1u);
  return split_words(lines.at(0), 0, "recipe");
}

TEST(FrontendLexer, SkipsCommentsAndBlankLines) {
  auto lines = split_lines("# a comment\n\n   # indented comment\nFROM a AS b\n\t\n", "recipe");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "FROM a AS b");
  EXPECT_EQ(lines[0].start(), (SourcePos{4, 1}));
  EXPECT_EQ(lines[0].end(), (SourcePos{4, 12}));
}

TEST(FrontendLexer, ContinuationsJoinLinesAndKeepPositions) {
  auto lines =
      split_lines("  FROM busybox \\\n# dropped comment\n\n    AS image\nPACK x\n", "recipe");
  ASSERT_EQ(lines.size(), 2u);
  auto words = split_words(lines[0], 0, "recipe");
  EXPECT_EQ(texts(words), (std::vector<std::string>{"FROM", "busybox", "AS", "image"}));
  EXPECT_EQ(words[0].start, (SourcePos{1, 3}));
  EXPECT_EQ(words[2].start, (SourcePos{4, 5}));
  EXPECT_EQ(words[3].pos[2], (SourcePos{4, 10}));
  EXPECT_EQ(lines[1].start(), (SourcePos{5, 1}));
}

TEST(FrontendLexer, ContinuationAllowsTrailingBlanksAndCrlf) {
  auto lines = split_lines("FROM a \\  \r\n AS b\r\n", "recipe");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(texts(split_words(lines[0], 0, "recipe")),
            (std::vector<std::string>{"FROM", "a", "AS", "b"}));
}

TEST(FrontendLexer, ContinuationAtEndOfFileIsAnError) {
  try {
    split_lines("FROM a \\\n", "recipe");
    FAIL() << "no error";
  } catch (const RecipeError& e) {
    EXPECT_EQ(e.line(), 1u);
    EXPECT_EQ(e.column(), 8u);
    EXPECT_EQ(e.message(), "line continuation at the end of the recipe");
  }
}

TEST(FrontendLexer, DoubleQuotesGroupAndEscape) {
  auto words = words_of(R"(ENV A="x y" B="q\"q" C="\$lit $sub" D="back\\slash")");
  ASSERT_EQ(words.size(), 5u);
  EXPECT_EQ(words[1].text, "A=x y");
  EXPECT_TRUE(words[1].quoted);
  EXPECT_EQ(words[2].text, "B=q\"q");
  EXPECT_EQ(words[3].text, "C=$lit $sub");
  EXPECT_TRUE(words[3].literal[2]);   // the escaped $
  EXPECT_FALSE(words[3].literal[7]);  // the $ of $sub
  EXPECT_EQ(words[4].text, "D=back\\slash");
}

TEST(FrontendLexer, SingleQuotesAreLiteral) {
  auto words = words_of(R"(X 'a "b" $c \d')");
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[1].text, "a \"b\" $c \\d");
  for (bool literal : words[1].literal) EXPECT_TRUE(literal);
  EXPECT_EQ(words[1].start, (SourcePos{1, 3}));
  EXPECT_EQ(words[1].pos[0], (SourcePos{1, 4}));
}

TEST(FrontendLexer, BackslashOutsideQuotesEscapesOneByte) {
  auto words = words_of(R"(X a\ b \$HOME mixed"quo ted"'x')");
  EXPECT_EQ(texts(words), (std::vector<std::string>{"X", "a b", "$HOME", "mixedquo tedx"}));
  EXPECT_TRUE(words[2].literal[0]);
  EXPECT_FALSE(words[0].quoted);
  EXPECT_TRUE(words[3].quoted);
}

TEST(FrontendLexer, UnterminatedQuotesPointAtTheOpeningQuote) {
  auto lines = split_lines("FROM \"busybox AS x\n", "recipe");
  try {
    split_words(lines.at(0), 0, "recipe");
    FAIL() << "no error";
  } catch (const RecipeError& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "recipe:1:6: error: unterminated double quote\n  hint: close the quoted text with \"");
  }
  lines = split_lines("FROM a AS 'b\n", "recipe");
  EXPECT_THROW(split_words(lines.at(0), 0, "recipe"), RecipeError);
}

}  // namespace
}  // namespace c2w::frontend
