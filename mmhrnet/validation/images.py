"""Telling a corrupt image from a missing one."""
import os.path as osp


def image_problem(path):
    """Why the image at ``path`` cannot be used ('missing', 'corrupt (...)'), or None."""
    if not osp.isfile(path):
        return 'missing'
    from PIL import Image
    try:
        with Image.open(path) as img:
            img.load()  # decodes every byte: a truncated file fails here
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError... for bad data
        return f'corrupt (truncated or not an image: {type(e).__name__}: {e})'
    return None


_TAIL = 1024  # bytes read at the end of a file to look for its end marker


def truncation_problem(path):
    """Whether a JPEG or PNG file lacks its end (OpenCV decodes such a file without an error,
    the missing part grey): 'truncated (...)' or None.

    A cheap look at the end marker (JPEG ``FFD9``, PNG ``IEND``) first; only a file without
    one is decoded in full with PIL, which tells a cut-off file from one with extra bytes
    after its end.
    """
    try:
        size = osp.getsize(path)
        with open(path, 'rb') as f:
            head = f.read(8)
            f.seek(max(size - _TAIL, 0))
            tail = f.read().rstrip(b'\x00')
    except OSError:
        return None  # the reader reports what it cannot open
    if head.startswith(b'\xff\xd8'):
        marker = b'\xff\xd9'
    elif head.startswith(b'\x89PNG\r\n\x1a\n'):
        marker = b'IEND'
    else:
        return None
    if marker in tail:
        return None
    problem = image_problem(path)
    return None if problem is None else problem.replace('corrupt (truncated or not an image: ',
                                                        'truncated (')


def explain_image_error(error, path, where=''):
    """A one-line error for a pipeline failure on the image at ``path``, or None when the image
    itself is fine (the failure is something else)."""
    problem = image_problem(path)
    if problem is None:
        return None
    cls = FileNotFoundError if problem == 'missing' else ValueError
    return cls(f'image {path}{where} is {problem}')


class NamedImageErrors:
    """Dataset mixin (before an mmengine ``BaseDataset``): a pipeline failure on a missing or
    corrupt image becomes one error naming the image file (and its id), saying which."""

    def prepare_data(self, idx):
        try:
            return super().prepare_data(idx)
        except Exception as e:
            info = self.get_data_info(idx)
            path = info.get('img_path')
            clear = None if path is None else explain_image_error(
                e, path, f' (image id {info["img_id"]})' if 'img_id' in info else '')
            if clear is None:
                raise
            raise clear from e
