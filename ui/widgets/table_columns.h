#pragma once
// Column widths for the tables whose first column holds long tensor names (the Model and Plan
// tabs): every column fitted to its contents, then, where that is wider than the view, the
// names' column narrowed (to no less than minWidth, elided at the left: the end of a dotted
// name, layer and module, says the most) so that the figures to its right show. GUI thread
// only.

class QTableView;

namespace qs {

// Enough for the end of a name ("…0.self_attn.q_proj.weight") in the default font.
inline constexpr int kMinNameColumnWidth = 180;

// The names' column elides at the left, on one line, from now on (call once per view).
void elideNamesAtLeft(QTableView* view, int namesColumn);
void fitColumnsToView(QTableView* view, int namesColumn, int minWidth);

} // namespace qs
