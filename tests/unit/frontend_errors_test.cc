// Every error a recipe author can cause: exact line:column, message and hint.
#include <gtest/gtest.h>

#include "frontend_support.h"

namespace c2w::frontend {
namespace {

using testing::build_error;

struct Case {
  std::string name;
  std::string recipe;
  uint32_t line;
  uint32_t column;
  std::string message;
  std::string hint_part;  // must occur in the hint
};

// A valid prefix so later lines can test BOOT and PACK values.
const std::string kStages =
    "FROM busybox AS image\n"
    "ROOTFS image AS rootfs\n"
    "KERNEL debian:linux-source-6.1 CONFIG k.config AS kernel\n";

class FrontendErrors : public ::testing::TestWithParam<Case> {};

TEST_P(FrontendErrors, PointsAtTheProblem) {
  const Case& c = GetParam();
  RecipeError e = build_error(c.recipe, {}, context::MemoryLoader{{"k.config", "CONFIG_X=y\n"}});
  EXPECT_EQ(e.file(), "recipe");
  EXPECT_EQ(e.line(), c.line) << e.what();
  EXPECT_EQ(e.column(), c.column) << e.what();
  EXPECT_EQ(e.message(), c.message);
  EXPECT_NE(e.hint().find(c.hint_part), std::string::npos) << e.hint();
}

INSTANTIATE_TEST_SUITE_P(
    All, FrontendErrors,
    ::testing::Values(
        Case{"UnknownInstructionNear", "ARG X=1\n\nFROM a AS b\n     FORM busybox AS c\n", 4, 6,
             "unknown instruction \"FORM\"", "did you mean FROM?"},
        Case{"UnknownInstructionFar", "LABEL a=b\n", 1, 1, "unknown instruction \"LABEL\"",
             "instructions are ARG, FROM, KERNEL"},
        Case{"MissingAs", "FROM busybox\n", 1, 13, "FROM needs AS <name>",
             "FROM <image-ref> [PLATFORM <os/arch>] AS <name>"},
        Case{"AsWithoutName", "FROM busybox AS\n", 1, 16, "AS needs a stage name", "AS <name>"},
        Case{"TextAfterName", "FROM busybox AS a b\n", 1, 19,
             "unexpected \"b\" after the stage name", "AS <name> ends the instruction"},
        Case{"ExtraPositional", "FROM busybox alpine AS a\n", 1, 14,
             "unexpected \"alpine\" in FROM", "write FROM"},
        Case{"MissingPositional", "BOOT k MEMORY 1G AS b\n", 1, 22, "BOOT needs <rootfs-stage>",
             "BOOT <kernel-stage> <rootfs-stage>"},
        Case{"MissingRequiredOption", "FROM a AS b\nPACK b AS p\n", 2, 12,
             "PACK needs TARGET <value>", "TARGET wasi|browser"},
        Case{"OptionTwice", "FROM a PLATFORM linux/riscv64 PLATFORM linux/amd64 AS x\n", 1, 31,
             "PLATFORM is given twice", "write FROM"},
        Case{"OptionWithoutValue", "FROM a PLATFORM\n", 1, 16, "PLATFORM needs a value",
             "write FROM"},
        Case{"BadStageName", "FROM a AS 1x\n", 1, 11, "bad stage name \"1x\"",
             "start with a letter"},
        Case{"KeywordStageName", "FROM a AS Memory\n", 1, 11, "stage name \"Memory\" is a keyword",
             "AS, PLATFORM, CONFIG"},
        Case{"DuplicateStage", "FROM a AS x\nFROM b AS X\n", 2, 11, "duplicate stage name \"x\"",
             "already defined at line 1"},
        Case{"UndefinedStage", "FROM a AS image\nFROM b AS base\nROOTFS imag AS r\n", 3, 8,
             "undefined stage \"imag\"", "did you mean image? defined stages: image, base"},
        Case{"UndefinedStageNoneBefore", "ROOTFS x AS r\n", 1, 8, "undefined stage \"x\"",
             "no stage is defined before this line"},
        Case{"StageUsedBeforeDefined", "ROOTFS image AS r\nFROM a AS image\n", 1, 8,
             "stage \"image\" is used before it is defined (line 2)", "move it above this line"},
        Case{"StageCycle", "ROOTFS r AS r\n", 1, 8, "stage \"r\" refers to itself", "cycle"},
        Case{"WrongStageKind", kStages + "BOOT image rootfs MEMORY 1G AS boot\n", 4, 6,
             "BOOT needs a kernel stage here, but \"image\" is an image stage (line 1)",
             "kernel stages are made by KERNEL"},
        Case{"WrongStageKindPack", kStages + "PACK kernel TARGET wasi AS p\n", 4, 6,
             "PACK needs a boot stage here, but \"kernel\" is a kernel stage (line 3)",
             "boot stages are made by BOOT"},
        Case{"MissingArgValue", "ARG IMAGE\nFROM ${IMAGE} AS i\n", 2, 6, "ARG IMAGE has no value",
             "pass --build-arg IMAGE=..."},
        Case{"MissingArgValueBare", "ARG TAG\nFROM busybox:$TAG AS i\n", 2, 14,
             "ARG TAG has no value", "--build-arg TAG=..."},
        Case{"UndefinedVariable", "FROM $NOPE AS i\n", 1, 6, "undefined variable \"NOPE\"",
             "ARG NOPE"},
        Case{"ArgUsedBeforeDeclared", "FROM $LATE AS i\nARG LATE=x\n", 1, 6,
             "undefined variable \"LATE\"", "declare it above"},
        Case{"UnterminatedBrace", "ARG A=1\nFROM ${A AS i\n", 2, 6, "unterminated ${ in \"${A\"",
             "close the reference"},
        Case{"BadModifier", "ARG A=1\nFROM ${A:?x} AS i\n", 2, 9, "unsupported modifier in ${A...}",
             "${NAME:-default}"},
        Case{"BadMemorySuffix", kStages + "BOOT kernel rootfs MEMORY 256X AS boot\n", 4, 27,
             "bad MEMORY size \"256X\"", "e.g. 256M or 1G"},
        Case{"MemoryTooLarge", kStages + "BOOT kernel rootfs MEMORY 4G AS boot\n", 4, 27,
             "bad MEMORY size \"4G\"", "between 16M and 3G"},
        Case{"MemoryTooSmall", kStages + "BOOT kernel rootfs MEMORY 1M AS boot\n", 4, 27,
             "bad MEMORY size \"1M\"", "between 16M and 3G"},
        Case{"MemoryNotPages", kStages + "BOOT kernel rootfs MEMORY 100000001 AS boot\n", 4, 27,
             "bad MEMORY size \"100000001\"", "whole 4K pages"},
        Case{"BadTarget",
             kStages + "BOOT kernel rootfs MEMORY 256M AS boot\nPACK boot TARGET wasm AS p\n", 5,
             18, "bad TARGET \"wasm\"", "TARGET is wasi or browser"},
        Case{"EmptyRecipe", "", 1, 1, "the recipe is empty", "at least one stage"},
        Case{"OnlyComments", "# nothing\n\n   \n", 1, 1, "the recipe is empty", "FROM"},
        Case{"NoStages", "\nARG A\n", 2, 1, "the recipe defines no stages", "add a stage"},
        Case{"Run", "FROM a AS b\n  RUN echo hi\n", 2, 3, "RUN is not supported yet", "planned"},
        Case{"RunInRootfsBlock", "FROM a AS b\nROOTFS b AS r\n  run apt-get update\n", 3, 3,
             "RUN is not supported yet", "prepare the image"},
        Case{"CopyOutsideRootfs", "FROM a AS b\nCOPY x /x\n", 2, 1,
             "COPY must follow a ROOTFS line", "ROOTFS <image-stage> AS <name>"},
        Case{"CmdAfterOtherStage", "FROM a AS b\nROOTFS b AS r\nFROM c AS d\nCMD [\"x\"]\n", 4, 1,
             "CMD must follow a ROOTFS line", "before the next stage"},
        Case{"CopyOneArgument", "FROM a AS b\nROOTFS b AS r\nCOPY onlyone\n", 3, 13,
             "COPY takes a source and a destination, got 1 argument", "COPY <src> <dst>"},
        Case{"CopyThreeArguments", "FROM a AS b\nROOTFS b AS r\nCOPY a b /c\n", 3, 10,
             "COPY takes a source and a destination, got 3 arguments", "one source per line"},
        Case{"BadEnv", "FROM a AS b\nROOTFS b AS r\nENV A=1 novalue\n", 3, 9,
             "bad ENV entry \"novalue\"", "ENV KEY=VALUE"},
        Case{"ExecFormSingleQuotes", "FROM a AS b\nROOTFS b AS r\nCMD [\"a\", 'b']\n", 3, 11,
             "expected a double-quoted string in exec-form array", "JSON array"},
        Case{"ExecFormUnclosed", "FROM a AS b\nROOTFS b AS r\nCMD [\"a\"\n", 3, 9,
             "exec-form array ends early, expected ']'", "JSON array"},
        Case{"ExecFormTrailing", "FROM a AS b\nROOTFS b AS r\nCMD [\"a\"] b\n", 3, 11,
             "unexpected text after the exec-form array", "JSON array"},
        Case{"EmptyCmd", "FROM a AS b\nROOTFS b AS r\nENTRYPOINT   \n", 3, 14,
             "ENTRYPOINT needs a command", "ENTRYPOINT [\"prog\", \"arg\"]"},
        Case{"DuplicateEntrypoint",
             "FROM a AS b\nROOTFS b AS r\nENTRYPOINT [\"a\"]\nENTRYPOINT b\n", 4, 1,
             "ENTRYPOINT is already set for stage \"r\"", "set at line 3"},
        Case{"DuplicateArg", "ARG A\nARG A=1\n", 2, 5, "ARG A is declared twice", "line 1"},
        Case{"BadArgName", "ARG 1X=2\n", 1, 5, "bad ARG name \"1X\"", "letters, digits and _"},
        Case{"ArgWithoutName", "ARG\n", 1, 4, "ARG needs a name", "ARG NAME=default"},
        Case{"BadImageRef", "FROM BusyBox AS i\n", 1, 6,
             "bad image reference \"BusyBox\": repository part \"BusyBox\" must be lowercase "
             "letters, digits and separators",
             "docker.io/library/alpine:3.20"},
        Case{"BadPlatform", "FROM a PLATFORM riscv64 AS i\n", 1, 17, "bad PLATFORM \"riscv64\"",
             "linux/riscv64"},
        Case{"MissingConfigFile", "KERNEL debian:linux-source-6.1 CONFIG kernel/none.config AS k\n",
             1, 39,
             "cannot read CONFIG file \"kernel/none.config\": \"kernel/none.config\" does not "
             "exist",
             "relative to the context directory"},
        Case{"UrlSourceWithoutSha", "KERNEL https://example.org/l.tar.xz CONFIG k.config AS k\n", 1,
             8, "a URL kernel source needs SHA256 <hex>", "pin the download"},
        Case{"BadSha", "KERNEL https://e.org/l.tar.xz SHA256 abc CONFIG k.config AS k\n", 1, 38,
             "bad SHA256 \"abc\"", "64 hex digits"},
        Case{"ShaOnDebian", "KERNEL debian:linux-source-6.1 SHA256 abc CONFIG k.config AS k\n", 1,
             39, "SHA256 applies to URL sources only", "drop SHA256"},
        Case{"BadDebianPackage", "KERNEL debian:Linux CONFIG k.config AS k\n", 1, 8,
             "bad Debian package \"Linux\"", "debian:<package>[=<version>]"},
        Case{"MissingLocalKernel", "KERNEL linux.tar.xz CONFIG k.config AS k\n", 1, 8,
             "cannot read kernel source \"linux.tar.xz\": \"linux.tar.xz\" does not exist",
             "context directory"},
        Case{"CopySourceLeavesContext", "FROM a AS b\nROOTFS b AS r\nCOPY ../secret /s\n", 3, 6,
             "bad COPY source path: \"../secret\" leaves the context", "stay inside it"},
        Case{"CopyDestinationRelative", "FROM a AS b\nROOTFS b AS r\nCOPY k.config etc/k\n", 3, 15,
             "COPY destination \"etc/k\" is not absolute", "from /"}),
    [](const ::testing::TestParamInfo<Case>& param) { return param.param.name; });

TEST(FrontendErrorsFormat, WhatReadsLikeACompilerDiagnostic) {
  RecipeError e = build_error("ARG X=1\n\nFROM a AS b\n     FORM busybox AS c\n");
  EXPECT_EQ(std::string(e.what()),
            "recipe:4:6: error: unknown instruction \"FORM\"\n  hint: did you mean FROM?");
  RecipeError no_hint("f", {2, 3}, "msg");
  EXPECT_EQ(std::string(no_hint.what()), "f:2:3: error: msg");
}

TEST(FrontendErrorsFormat, UnknownTargetHasNoLineAndListsStages) {
  BuildOptions options;
  options.target = "imagee";
  RecipeError e = build_error("FROM a AS image\nFROM b AS other\n", options);
  EXPECT_EQ(e.line(), 0u);
  EXPECT_EQ(std::string(e.what()),
            "recipe: error: target stage \"imagee\" is not defined\n"
            "  hint: did you mean image? stages: image, other");
}

TEST(FrontendErrorsFormat, ErrorsInContinuedLinesPointAtThePhysicalLine) {
  RecipeError e = build_error("FROM busybox \\\n  PLATFORM \\\n  linux AS x\n");
  EXPECT_EQ(e.line(), 3u);
  EXPECT_EQ(e.column(), 3u);
  EXPECT_EQ(e.message(), "bad PLATFORM \"linux\"");
}

}  // namespace
}  // namespace c2w::frontend
