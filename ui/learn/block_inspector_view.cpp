#include "learn/block_inspector_view.h"

#include "learn/packed_bytes_view.h"
#include "models/block_walk_model.h"
#include "number_format.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace qs {
namespace {

QString fieldName(FieldKind k) {
    switch (k) {
    case FieldKind::Codes:
        return BlockInspectorView::tr("codes");
    case FieldKind::Scale:
        return BlockInspectorView::tr("scale (fp16)");
    case FieldKind::ZeroPoint:
        return BlockInspectorView::tr("zero-point");
    case FieldKind::Absmax:
        return BlockInspectorView::tr("absmax (fp32)");
    case FieldKind::SharedExponent:
        return BlockInspectorView::tr("shared exponent (E8M0)");
    case FieldKind::BlockScale:
        return BlockInspectorView::tr("block scale (E4M3)");
    case FieldKind::TensorScale:
        return BlockInspectorView::tr("tensor scale (fp32, once per tensor)");
    case FieldKind::SuperScale:
        return BlockInspectorView::tr("d (fp16)");
    case FieldKind::SuperMin:
        return BlockInspectorView::tr("dmin (fp16)");
    case FieldKind::SubScales:
        return BlockInspectorView::tr("6-bit scales and mins");
    case FieldKind::SubScale:
        return BlockInspectorView::tr("scale");
    case FieldKind::SubMin:
        return BlockInspectorView::tr("min");
    }
    return {};
}

QString formatLabel(BlockFormat f) {
    switch (f) {
    case BlockFormat::Int4:
        return BlockInspectorView::tr("int4 (GPTQ-style, groups of 32)");
    case BlockFormat::Q4_0:
        return BlockInspectorView::tr("Q4_0 (llama.cpp, 32)");
    case BlockFormat::Q4_K:
        return BlockInspectorView::tr("Q4_K (llama.cpp, 256)");
    case BlockFormat::NF4:
        return BlockInspectorView::tr("NF4 (bitsandbytes, 64)");
    case BlockFormat::MXFP4:
        return BlockInspectorView::tr("MXFP4 (OCP, 32)");
    case BlockFormat::NVFP4:
        return BlockInspectorView::tr("NVFP4 (NVIDIA, 16)");
    }
    return {};
}

} // namespace

BlockInspectorView::BlockInspectorView(QWidget* parent)
    : QWidget(parent), m_format(new QComboBox(this)), m_block(new QSpinBox(this)),
      m_layout(new QLabel(this)), m_scales(new QLabel(this)), m_bytes(new PackedBytesView),
      m_model(new BlockWalkModel(this)), m_table(new QTableView(this)) {
    m_format->setObjectName(QStringLiteral("blockFormatCombo"));
    for (BlockFormat f : kBlockFormats)
        m_format->addItem(formatLabel(f), static_cast<int>(f));
    m_format->setToolTip(tr("The storage format to walk the block through"));
    m_block->setObjectName(QStringLiteral("blockSpin"));
    m_block->setToolTip(tr("Which block of the data to inspect (consecutive weights)"));
    auto* top = new QHBoxLayout;
    auto* formatLabelWidget = new QLabel(tr("F&ormat"), this);
    formatLabelWidget->setBuddy(m_format);
    top->addWidget(formatLabelWidget);
    top->addWidget(m_format);
    auto* blockLabel = new QLabel(tr("B&lock"), this);
    blockLabel->setBuddy(m_block);
    top->addSpacing(12);
    top->addWidget(blockLabel);
    top->addWidget(m_block);
    top->addStretch(1);

    for (QLabel* l : {m_layout, m_scales}) {
        l->setWordWrap(true);
        l->setTextFormat(Qt::RichText);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    m_layout->setObjectName(QStringLiteral("inspectorLayout"));
    m_scales->setObjectName(QStringLiteral("inspectorScales"));

    auto* scroll = new QScrollArea(this);
    scroll->setWidget(m_bytes);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumHeight(150);

    m_table->setObjectName(QStringLiteral("inspectorTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->setAlternatingRowColors(true);
    m_table->setToolTip(tr("Every element of the block: raw value → code → reconstruction. "
                           "Select a row to see where its code is stored."));

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(scroll);
    split->addWidget(m_table);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_layout);
    layout->addWidget(m_scales);
    layout->addWidget(split, 1);

    connect(m_format, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
    connect(m_block, &QSpinBox::valueChanged, this, [this] { refresh(); });
    connect(m_bytes, &PackedBytesView::elementClicked, this, &BlockInspectorView::selectElement);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& i) {
                if (i.isValid())
                    m_bytes->setSelectedElement(i.row());
            });
}

void BlockInspectorView::setValues(const std::vector<float>& values) {
    m_values = values;
    m_absmax = 0;
    for (float v : values)
        if (std::isfinite(v))
            m_absmax = std::max(m_absmax, std::abs(v));
    refresh();
}

void BlockInspectorView::setFormat(BlockFormat f) {
    m_format->setCurrentIndex(m_format->findData(static_cast<int>(f)));
}

BlockFormat BlockInspectorView::format() const {
    return static_cast<BlockFormat>(m_format->currentData().toInt());
}

void BlockInspectorView::setBlock(int block) {
    m_block->setValue(block);
}

int BlockInspectorView::blockCount() const {
    return static_cast<int>(m_values.size() / static_cast<std::size_t>(blockElements(format())));
}

const BlockWalk& BlockInspectorView::walk() const {
    return m_model->walk();
}

QString BlockInspectorView::layoutText() const {
    return m_layout->text();
}

QString BlockInspectorView::scalesText() const {
    return m_scales->text();
}

void BlockInspectorView::refresh() {
    const BlockFormat f = format();
    const auto n = static_cast<std::size_t>(blockElements(f));
    {
        const QSignalBlocker block(m_block);
        m_block->setRange(0, std::max(0, blockCount() - 1));
    }
    const auto first = static_cast<std::size_t>(m_block->value()) * n;
    if (first + n > m_values.size()) {
        m_layout->setText(tr("The data holds fewer than %1 values: %2 needs whole blocks.")
                              .arg(n)
                              .arg(formatLabel(f)));
        m_model->setWalk({});
        m_bytes->setWalk({});
        Q_EMIT walkChanged();
        return;
    }
    auto w = inspectBlock(f, std::span<const float>(m_values).subspan(first, n), m_absmax);
    if (!w) {
        m_layout->setText(QString::fromStdString(w.message()).toHtmlEscaped());
        return;
    }
    m_model->setWalk(*w);
    m_bytes->setWalk(*w);
    m_layout->setText(describeLayout(*w));
    m_scales->setText(describeScales(*w));
    if (!m_table->currentIndex().isValid() || m_table->currentIndex().row() >= m_model->rowCount())
        selectElement(0);
    else
        m_bytes->setSelectedElement(m_table->currentIndex().row());
    Q_EMIT walkChanged();
}

void BlockInspectorView::selectElement(int element) {
    m_table->selectRow(element);
    m_table->scrollTo(m_model->index(element, 0));
}

QString BlockInspectorView::describeLayout(const BlockWalk& w) const {
    QString order;
    switch (w.order) {
    case NibbleOrder::LowFirst:
        order = tr("element 2i in the <b>low</b> nibble, 2i+1 in the high nibble of code byte i");
        break;
    case NibbleOrder::HighFirst:
        order = tr("the <b>first</b> element of each pair in the <b>high</b> nibble: "
                   "byte i = e[2i]·16 + e[2i+1]");
        break;
    case NibbleOrder::HalfSplit:
        order = tr("element j in the <b>low</b> nibble of code byte j, element j+16 in its "
                   "<b>high</b> nibble");
        break;
    case NibbleOrder::KQuant:
        order = tr("per 64 elements: element l in the <b>low</b> nibble of code byte l, "
                   "element l+32 in its <b>high</b> nibble");
        break;
    }
    QStringList parts;
    for (const ByteField& f : w.fields)
        parts << QStringLiteral("<span style='background:%1'>&nbsp;%2: %3 B&nbsp;</span>")
                     .arg(PackedBytesView::fieldColour(f.kind).name(QColor::HexArgb),
                          fieldName(f.kind))
                     .arg(f.size);
    // The int4 zero-point is shown in a byte of its own but stored in 4 bits (as the scheme's
    // cost counts it): the header says so rather than "19 bytes = 4.625 bits per weight".
    const double stored = w.bitsPerWeight * static_cast<double>(w.elements.size()) / 8.0;
    const QString size =
        stored < static_cast<double>(w.bytes.size())
            ? tr("%1 bytes as laid out here, %2 stored (the zero-point takes 4 bits)")
                  .arg(w.bytes.size())
                  .arg(formatNumber(stored, 4))
            : tr("%1 bytes").arg(w.bytes.size());
    return tr("%1 elements in %2 = <b>%3 bits per weight</b>. Layout: %4.<br>Nibble order: %5.")
        .arg(w.elements.size())
        .arg(size, formatNumber(w.bitsPerWeight, 4), parts.join(QStringLiteral(" ")), order);
}

QString BlockInspectorView::describeScales(const BlockWalk& w) const {
    QStringList parts;
    for (const ScaleValue& s : w.scales) {
        QString name = fieldName(s.kind);
        if (s.index >= 0)
            name = QStringLiteral("%1<sub>%2</sub>").arg(name).arg(s.index);
        const int hexDigits = std::max(1, (s.storedBits + 3) / 4);
        parts << QStringLiteral("%1 = <b>%2</b> <span style='color:gray'>(0x%3)</span>")
                     .arg(name, formatNumber(s.value, 5))
                     .arg(s.stored, hexDigits, 16, QLatin1Char('0'));
    }
    return tr("Stored with the codes: %1").arg(parts.join(QStringLiteral(", ")));
}

} // namespace qs
