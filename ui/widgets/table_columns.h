#pragma once
// Column widths for the tables whose first column holds long tensor names (the Model and Plan
// tabs): every column fitted to its contents, then, where that is wider than the view, the
// names' column narrowed (to no less than minWidth, each name shortened to fit: the block
// number, module and projection kept, see tensor_names.h) so that the figures to its right show.
// GUI thread only.

#include "widgets/tensor_names.h"

class QAbstractItemView;
class QTableView;

namespace qs {

// Enough for a block's tensor ("layers.0.self_attn.q_proj") in the default font.
inline constexpr int kMinNameColumnWidth = 180;

// The names' column shows names shortened to fit (shortTensorName, at most to `deepest`), on one
// line, from now on (once per view).
void shortenNames(QAbstractItemView* view, int namesColumn, int deepest = kDeepestShortName);
void fitColumnsToView(QTableView* view, int namesColumn, int minWidth);

} // namespace qs
