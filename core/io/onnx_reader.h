#pragma once
// ONNX models: a protobuf ModelProto. Tensors are the graph's initializers and the values of
// its Constant nodes, also inside subgraphs (If branches, Loop and Scan bodies), where they are
// named "<node>/<attribute>/<name>" (the node's name, else its first output) so that they stay
// unique; elements in raw_data, in typed fields or in external data files beside the model.
// Metadata: ir_version, opset imports, producer, graph name and metadata_props.
//
// The model is read by walking the protobuf wire format over the mapped file (protobuf_wire.h)
// instead of parsing it with libprotobuf: a parsed ModelProto holds a second copy of every
// weight (each raw_data becomes a std::string) and libprotobuf refuses messages over 2 GB. The
// walk keeps every weight where it is (raw_data, packed float_data and external data are read
// in place), holds only names and offsets, and costs one pass over the message structure.
// Tests check it against models written by the official ONNX protobuf classes.

#include "io/checkpoint.h"

namespace qs {

// True for a ModelProto: the ir_version field first followed by another ModelProto field (what
// every protobuf serializer writes), or else a top level made only of ModelProto fields that
// include ir_version and graph. Claims no file that another reader recognises.
bool looksLikeOnnx(std::span<const std::byte> bytes);
Result<Checkpoint> readOnnx(std::shared_ptr<const MappedFile> file);

} // namespace qs
