"""ONNX Runtime (CPU): fp32, and int8 by ONNX Runtime's static post-training quantisation.

ONNX Runtime's CPU kernels have no bf16 convolutions, so bf16 is refused here (OpenVINO runs
bf16 where the CPU has the units).
"""
import os
import os.path as osp

import numpy as np

from mmhrnet.utils.cpu import cpu_has_vnni


def check(precision):
    """Raise when this backend cannot run ``precision`` here."""
    if precision == 'bf16':
        raise ValueError('onnxruntime has no bf16 CPU kernels; export with '
                         '--backend openvino --precision bf16 instead')


# Layers that compute; the ones that produce the outputs stay in fp32 when quantising.
COMPUTE_OPS = {'Conv', 'ConvTranspose', 'Gemm', 'MatMul'}


def output_layers(onnx_file):
    """Names of the compute nodes that produce the graph's outputs (reached back through
    reshapes, activations and the like): quantising them costs accuracy (the heatmaps' and
    logits' fine values) and saves almost no time, so int8 keeps them in fp32."""
    import onnx
    graph = onnx.load(onnx_file, load_external_data=False).graph
    producer = {out: node for node in graph.node for out in node.output}
    names = []
    for output in graph.output:
        node = producer.get(output.name)
        while node is not None and node.op_type not in COMPUTE_OPS:
            node = producer.get(node.input[0]) if node.input else None
        if node is not None and node.name not in names:
            names.append(node.name)
    return names


def convert(onnx_file, out_dir, precision, calib_inputs=None):
    """The model file (relative to ``out_dir``) for ``precision``; int8 quantises the ONNX
    model statically (QDQ, per-channel int8 weights, uint8 activations; the output layers in
    fp32) on ``calib_inputs`` into ``<stem>_ort_int8.onnx`` (``model.onnx`` ->
    ``model_ort_int8.onnx``)."""
    check(precision)
    if precision == 'fp32':
        return osp.basename(onnx_file)
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if not calib_inputs:
        raise ValueError('int8 quantisation needs calibration inputs (--calib N, N > 0)')

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(calib_inputs)

        def get_next(self):
            item = next(self.items, None)
            return None if item is None else {'inputs': item}

    stem = osp.splitext(osp.basename(onnx_file))[0]
    prepared = osp.join(out_dir, f'{stem}_ort_prep.onnx')
    quant_pre_process(onnx_file, prepared, skip_symbolic_shape=True)
    name = f'{stem}_ort_int8.onnx'
    # Without VNNI, 8-bit products can saturate: ONNX Runtime's guidance is 7-bit weights.
    vnni = bool(cpu_has_vnni())
    quantize_static(prepared, osp.join(out_dir, name), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, reduce_range=not vnni, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, nodes_to_exclude=output_layers(prepared))
    os.remove(prepared)
    return name


class Session:
    """An ONNX Runtime CPU session of one model file, ``threads`` intra-op threads.

    Its threads stop spinning when a call returns: in a pipeline the next stage (another
    runtime, image decoding, result writing) gets the cores instead of threads waiting for
    work that is not coming.
    """

    def __init__(self, path, precision='fp32', threads=None):
        import onnxruntime as ort
        check(precision)
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.add_session_config_entry('session.force_spinning_stop', '1')
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, inputs):
        return self.session.run(None, {self.input_name: np.ascontiguousarray(inputs, np.float32)})
