#include "number_format.h"

#include <QLocale>

#include <cmath>

namespace qs {
namespace {

const QLocale& displayLocale() {
    static const QLocale locale(QLocale::English, QLocale::UnitedStates);
    return locale;
}

} // namespace

QString formatCount(std::int64_t n) {
    return displayLocale().toString(static_cast<qlonglong>(n));
}

QString formatCountShort(std::int64_t n) {
    const double v = static_cast<double>(n);
    const double a = std::abs(v);
    if (a >= 1e9)
        return QString::number(v / 1e9, 'f', 1) + QStringLiteral("B");
    if (a >= 1e6)
        return QString::number(v / 1e6, 'f', 1) + QStringLiteral("M");
    if (a >= 1e3)
        return QString::number(v / 1e3, 'f', 1) + QStringLiteral("K");
    return QString::number(n);
}

QString formatBytes(std::uint64_t bytes) {
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    return displayLocale().formattedDataSize(static_cast<qint64>(bytes), 2,
                                             QLocale::DataSizeIecFormat);
}

QString formatNumber(double v, int significant) {
    if (std::isnan(v))
        return QStringLiteral("nan");
    if (std::isinf(v))
        return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    if (v == 0)
        return QStringLiteral("0");
    const double a = std::abs(v);
    if (a >= 1e-3 && a < 1e6)
        return QString::number(v, 'g', significant);
    return QString::number(v, 'e', significant - 1);
}

QString formatDb(double db) {
    if (std::isinf(db) && db > 0)
        return QStringLiteral("exact (∞ dB)");
    if (std::isnan(db))
        return QStringLiteral("—");
    return QString::number(db, 'f', 2) + QStringLiteral(" dB");
}

QString formatPercent(double fraction) {
    if (!std::isfinite(fraction))
        return formatNumber(fraction);
    const double p = 100.0 * fraction;
    return QString::number(p, 'f', std::abs(p) < 0.1 && p != 0 ? 4 : 2) + QStringLiteral(" %");
}

} // namespace qs
