// The sensitivity map's figures leave the GUI: every tensor and scheme as CSV (the numbers the
// map holds, n/a cells empty, llama.cpp's stand-ins named), and the whole map as a PNG.

#include "charts/sensitivity_heatmap.h"
#include "main_window.h"
#include "models/sensitivity_model.h"
#include "panels/model_tab.h"
#include "test_support.h"
#include "workers/sweep_controller.h"

#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace qs;

class TestSensitivityExport : public QObject {
    Q_OBJECT

private slots:
    void figuresAsCsvAndTheMapAsPng() {
        MainWindow w(false);
        w.resize(1600, 1000);
        w.openCheckpoint(QString::fromStdString(test::samplePath()));
        QSignalSpy done(w.sweepController(), &SweepController::finished);
        w.setCurrentTab(QStringLiteral("model"));
        QVERIFY(done.count() > 0 || done.wait(60000));
        SensitivityHeatmap* map = w.modelTab()->heatmap();
        SensitivityModel* model = w.modelTab()->model();
        const QStringList lines = map->csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1 + 36);
        const QStringList header = lines[0].split(QLatin1Char(','));
        QCOMPARE(header.size(), 8 + 5 * 5);
        QCOMPARE(header[7], QStringLiteral("input_spread")); // empty: no activations here
        QCOMPARE(header[8], QStringLiteral("int3:g64 sqnr_db"));
        QCOMPARE(header[8 + 3 * 5 + 4], QStringLiteral("q4_k stored_as"));
        // Each row's figures are the model's (whatever the map shows: SQNR here).
        for (int r = 0; r < model->rowCount(); ++r) {
            const QString name = model->index(r, 0).data().toString();
            const auto row = std::find_if(lines.begin() + 1, lines.end(), [&](const QString& l) {
                return l.startsWith(name + QLatin1Char(','));
            });
            QVERIFY2(row != lines.end(), qPrintable(name));
            const QStringList f = row->split(QLatin1Char(','));
            QCOMPARE(f.size(), header.size());
            QVERIFY(f[7].isEmpty());
            for (int s = 0; s < 5; ++s) {
                const QModelIndex idx = model->index(r, model->schemeColumn(s));
                const double v = idx.data(int(SensitivityRole::Value)).toDouble();
                const QString sqnr = f[8 + 5 * s];
                if (std::isnan(v)) { // n/a: q8_0 on the 172-wide rows
                    QVERIFY(sqnr.isEmpty());
                    continue;
                }
                QCOMPARE(sqnr.toDouble(), v);
                QCOMPARE(f[8 + 5 * s + 4], idx.data(int(SensitivityRole::Fallback)).toString());
            }
        }
        QVERIFY(map->csv().contains(QStringLiteral(",q5_0"))); // q4_k's stand-in, named
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("map.png"));
        QVERIFY(map->savePng(png));
        if (qEnvironmentVariableIsSet("QS_KEEP_MAP"))
            map->savePng(qEnvironmentVariable("QS_KEEP_MAP"));
        const QImage image(png);
        // The colour scale above the map: taller than the map by its height and a gap.
        QVERIFY(image.height() > map->sizeHint().height() * image.devicePixelRatio());
        QVERIFY(image.width() >= map->width());
    }
};

QTEST_MAIN(TestSensitivityExport)
#include "test_sensitivity_export.moc"
