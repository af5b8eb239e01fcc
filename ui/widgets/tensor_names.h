#pragma once
// Tensor names shortened to fit a narrow column, keeping what tells tensors apart: the block
// number, the module and the projection. Used by the sensitivity map and the Model and Plan
// tables (their tooltips keep the whole name). GUI thread only.

#include <QString>
#include <QStringList>

class QFontMetrics;

namespace qs {

// `name` shortened to `level`: 0 whole, 1 without ".weight", 2 and up also without the first
// level - 1 parts of the path above the block number ("model.layers.0.mlp.up_proj" ->
// "layers.0.mlp.up_proj" -> "0.mlp.up_proj"); a name without a block number stops at 1.
QString shortTensorName(const QString& name, int level);
inline constexpr int kDeepestShortName = 4; // "a.b.c.17.x" -> "17.x"; deeper paths elided
// The least level at which every name fits `width` (`deepest` where none does: the longest are
// then elided in the middle).
int shortTensorLevel(const QStringList& names, const QFontMetrics& fm, int width,
                     int deepest = kDeepestShortName);

} // namespace qs
