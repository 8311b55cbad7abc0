"""OpenVINO (CPU): fp32 and bf16 as inference-precision hints of one fp32 IR, int8 by NNCF
post-training quantisation."""
import os
import os.path as osp

import numpy as np

# OpenVINO's CPU plugin picks bf16 by itself on CPUs with AMX or AVX512-BF16: fp32 and int8
# (the layers NNCF leaves in float) are asked for f32 explicitly so that they stay exact.
HINTS = {'fp32': 'f32', 'bf16': 'bf16', 'int8': 'f32'}


def check(precision):
    """Raise when this CPU cannot run ``precision`` (bf16 without bf16 units: the same probe,
    :func:`mmhrnet.utils.cpu.cpu_has_bf16`, as the torch paths)."""
    from mmhrnet.utils.cpu import cpu_has_bf16, cpu_summary
    if precision == 'bf16' and not cpu_has_bf16():
        raise ValueError(f'this CPU has no bf16 units ({cpu_summary()}): use --precision fp32 '
                         'or int8')


COMPUTE_OPS = {'Convolution', 'GroupConvolution', 'ConvolutionBackpropData', 'MatMul'}


def output_layers(model):
    """Friendly names of the compute nodes that produce ``model``'s outputs (reached back
    through biases, reshapes and activations along first inputs): int8 keeps them in fp32,
    as the ONNX Runtime path does (see ``onnxruntime.output_layers``)."""
    names = []
    for result in model.get_results():
        node = result.input_value(0).get_node()
        while node.get_type_name() not in COMPUTE_OPS and node.get_input_size():
            node = node.input_value(0).get_node()
        if node.get_type_name() in COMPUTE_OPS and node.get_friendly_name() not in names:
            names.append(node.get_friendly_name())
    return names


def convert(onnx_file, out_dir, precision, calib_inputs=None):
    """The IR file (relative to ``out_dir``) for ``precision``: one fp32 IR for fp32 and bf16
    (a run-time hint), a quantised one for int8 (NNCF, calibrated on ``calib_inputs``, the
    output layers in fp32):
    ``<stem>_ov.xml`` / ``<stem>_ov_int8.xml`` (``model.onnx`` -> ``model_ov.xml``).
    ``onnx_file`` may also be an fp32 IR (``.xml``) this function wrote."""
    import openvino as ov
    check(precision)
    stem = osp.splitext(osp.basename(onnx_file))[0]
    stem = stem[:-len('_ov')] if onnx_file.endswith('_ov.xml') else stem
    name = f'{stem}_ov.xml' if precision != 'int8' else f'{stem}_ov_int8.xml'
    if osp.abspath(onnx_file) == osp.abspath(osp.join(out_dir, name)):
        return name  # bf16 is a hint on the fp32 IR that is already there
    # An IR already converted from the same ONNX file is read instead of converted again.
    model = ov.Core().read_model(onnx_file) if onnx_file.endswith('.xml') else \
        ov.convert_model(onnx_file)
    if precision == 'int8':
        import nncf
        if not calib_inputs:
            raise ValueError('int8 quantisation needs calibration inputs (--calib N, N > 0)')
        model = nncf.quantize(model, nncf.Dataset(calib_inputs), subset_size=len(calib_inputs),
                              preset=nncf.QuantizationPreset.PERFORMANCE,
                              ignored_scope=nncf.IgnoredScope(names=output_layers(model)))
    # Written under another name and renamed: a model compiled from the old file maps its
    # weights, and overwriting them in place kills the process (SIGBUS) when it next runs.
    stem = osp.join(out_dir, name[:-len('.xml')])
    ov.save_model(model, f'{stem}.tmp.xml', compress_to_fp16=False)  # fp32 weights
    os.replace(f'{stem}.tmp.bin', f'{stem}.bin')
    os.replace(f'{stem}.tmp.xml', f'{stem}.xml')
    return name


class Session:
    """A model compiled for OpenVINO's CPU plugin at ``precision``, ``threads`` threads."""

    def __init__(self, path, precision='fp32', threads=None, profile=False):
        import openvino as ov
        check(precision)
        config = {'INFERENCE_PRECISION_HINT': HINTS[precision], 'PERFORMANCE_HINT': 'LATENCY'}
        if threads:
            config['INFERENCE_NUM_THREADS'] = threads
        if profile:
            config['PERF_COUNT'] = True
        self.compiled = ov.Core().compile_model(path, 'CPU', config)
        self.request = self.compiled.create_infer_request()

    def __call__(self, inputs):
        result = self.request.infer([np.ascontiguousarray(inputs, np.float32)])
        return [np.array(result[out]) for out in self.compiled.outputs]

    def layer_times(self):
        """Milliseconds of the last inference per (layer type, kernel) that ran, e.g.
        ``('Convolution', 'brgconv_avx512_amx_bf16')``: needs ``profile=True``."""
        import openvino as ov
        totals = {}
        for info in self.request.get_profiling_info():
            if info.status == ov.ProfilingInfo.Status.EXECUTED:
                key = info.node_type, info.exec_type
                totals[key] = totals.get(key, 0.) + info.real_time.total_seconds() * 1e3
        return totals
