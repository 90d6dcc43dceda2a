"""ag.onnx: importable, as torch.onnx is, so programs that import it run. Exporting to ONNX is not
implemented: save weights with ag.save(model.state_dict(), "model.safetensors") instead, a format
PyTorch and other frameworks read."""


def export(model, args=None, f=None, *unused_args, **unused_kwargs):
    """Raise NotImplementedError: exporting to ONNX is not implemented. Save the weights with
    ``ag.save(model.state_dict(), "model.safetensors")`` instead.
    """
    raise NotImplementedError("ag.onnx.export: exporting to ONNX is not implemented in autograd_core. Save the "
                              "weights with ag.save(model.state_dict(), 'model.safetensors') (readable by PyTorch "
                              "and other frameworks with the safetensors package) or ag.save(..., 'model.pt') "
                              "(PyTorch's checkpoint format)")


def is_in_onnx_export():
    """False: no ONNX export is ever running."""
    return False
