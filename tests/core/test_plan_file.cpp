// Plan files (DESIGN.md `plan` contract) and atomic output writing: round trip with order kept,
// canonical specs, the errors for malformed plans, and that a failed write leaves nothing behind
// and an input is never overwritten.

#include "plan/plan_file.h"
#include "util/atomic_file.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include <filesystem>
#include <fstream>

using namespace qs;

class TestPlanFile : public QObject {
    Q_OBJECT

private slots:
    void roundTripKeepsOrderAndCanonicalSpecs() {
        Plan p;
        p.budgetBpw = 4.5;
        p.bitsPerWeight = 4.41;
        p.relRmse = 0.083;
        p.defaultSpec = "int4:g64";
        p.tensors = {{"z.weight", "q8_0"}, {"a.weight", "nf4:g64"}, {"m.weight", "int4:g64"}};
        p.candidates = {"int4:g64", "q8_0"};
        p.keep = {{"lm_head.*", "q8_0"}};
        auto back = parsePlan(planToJson(p));
        QVERIFY2(back.ok(), back.ok() ? "" : back.message().c_str());
        QCOMPARE(back->tensors.size(), size_t(3));
        QCOMPARE(back->tensors[0].first, std::string("z.weight")); // file order, not sorted
        QCOMPARE(back->tensors[1].second, std::string("nf4:g64"));
        QCOMPARE(back->budgetBpw, 4.5);
        QCOMPARE(back->bitsPerWeight, 4.41);
        QCOMPARE(back->defaultSpec, std::string("int4:g64"));
        QCOMPARE(back->keep.size(), size_t(1));
        QCOMPARE(back->keep[0].pattern, std::string("lm_head.*"));
        QCOMPARE(*back->specFor("a.weight"), std::string("nf4:g64"));
        QCOMPARE(*back->specFor("unlisted"), std::string("int4:g64"));
        // A weight-error plan says nothing of an objective; an output-error plan says so.
        QVERIFY(back->objective.empty() && std::isnan(back->outRelErr));
        QVERIFY(planToJson(p).find("objective") == std::string::npos);
        p.objective = kOutputErrorObjective;
        p.outRelErr = 0.0912;
        back = parsePlan(planToJson(p));
        QVERIFY(back.ok());
        QCOMPARE(back->objective, std::string("output_error"));
        QCOMPARE(back->outRelErr, 0.0912);
        QVERIFY(parsePlan(R"({"objective": "weight_error", "tensors": {}})")->objective.empty());
    }

    void specsAreCanonicalised() {
        auto p = parsePlan(R"({"default": null, "tensors": {"w": "INT4:G128"}})");
        QVERIFY(p.ok());
        QCOMPARE(p->tensors[0].second, std::string("int4:g128"));
        QVERIFY(!p->specFor("other").has_value());
    }

    void malformedPlansAreRejectedWithAReason() {
        const std::pair<const char*, const char*> cases[] = {
            {"not json", "not valid JSON"},
            {"[1,2]", "not a JSON object"},
            {R"({"default": "int4"})", "\"tensors\""},
            {R"({"tensors": {"w": 4}})", "not a string"},
            {R"({"tensors": {"w": "bogus9"}})", "tensor w"},
            {R"({"default": "int99", "tensors": {}})", "default"},
            {R"({"tensors": {"w": [[[[[["x"]]]]]]}})", "JSON"},
            {R"({"objective": "speed", "tensors": {}})", "\"objective\""},
            {R"({"objective": 1, "tensors": {}})", "\"objective\""},
        };
        for (const auto& [text, needle] : cases) {
            auto p = parsePlan(text);
            QVERIFY2(!p.ok(), text);
            QVERIFY2(p.message().find(needle) != std::string::npos, p.message().c_str());
        }
    }

    void savesAtomicallyAndLoadsBack() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("plan.json").toStdString();
        Plan p;
        p.tensors = {{"w", "int8:channel:sym"}};
        QVERIFY(savePlan(path, p).ok());
        QVERIFY(!std::filesystem::exists(path + ".tmp-quantscope"));
        auto back = loadPlan(path);
        QVERIFY(back.ok());
        QCOMPARE(back->tensors[0].second, std::string("int8:channel:sym"));
        QVERIFY(!loadPlan(dir.filePath("missing.json").toStdString()).ok());
    }

    void failedWriteLeavesNothing() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("out.bin").toStdString();
        { std::ofstream(path) << "previous"; }
        Status st = writeFileAtomically(path, [](std::ostream& out) -> Status {
            out << "half";
            return makeError("cancelled half-way");
        });
        QVERIFY(!st.ok());
        QVERIFY(!std::filesystem::exists(path + ".tmp-quantscope"));
        std::ifstream in(path);
        std::string kept;
        in >> kept;
        QCOMPARE(kept, std::string("previous")); // the old file is untouched
    }

    void refusesToOverwriteAnInput() {
        QTemporaryDir dir;
        const std::string input = dir.filePath("model.gguf").toStdString();
        { std::ofstream(input) << "x"; }
        QVERIFY(!refuseOverwritingInputs(input, {input}).ok());
        const std::string sneaky = dir.filePath("./sub/../model.gguf").toStdString();
        std::filesystem::create_directory(dir.filePath("sub").toStdString());
        QVERIFY(!refuseOverwritingInputs(sneaky, {input}).ok());
        QVERIFY(!refuseOverwritingInputs(input, {dir.path().toStdString()}).ok());
        QVERIFY(refuseOverwritingInputs(dir.filePath("new.gguf").toStdString(), {input}).ok());
    }
};

QTEST_GUILESS_MAIN(TestPlanFile)
#include "test_plan_file.moc"
