#include "widgets/tensor_names.h"

#include <QFontMetrics>

#include <algorithm>

namespace qs {

QString shortTensorName(const QString& name, int level) {
    QString s = name;
    if (level <= 0)
        return s;
    if (s.endsWith(QLatin1String(".weight")))
        s.chop(7);
    QStringList parts = s.split(QLatin1Char('.'));
    const auto number = std::find_if(parts.begin(), parts.end(), [](const QString& part) {
        bool ok = false;
        part.toUInt(&ok);
        return ok;
    });
    if (number == parts.end())
        return s;
    const auto drop = std::min<qsizetype>(level - 1, number - parts.begin());
    return QStringList(parts.begin() + drop, parts.end()).join(QLatin1Char('.'));
}

int shortTensorLevel(const QStringList& names, const QFontMetrics& fm, int width, int deepest) {
    for (int level = 0; level < deepest; ++level)
        if (std::all_of(names.begin(), names.end(), [&](const QString& n) {
                return fm.horizontalAdvance(shortTensorName(n, level)) <= width;
            }))
            return level;
    return deepest;
}

} // namespace qs
