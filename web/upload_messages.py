"""The messages of resumable uploads (key -> (zh-CN, English)): the tus protocol's refusals, and the upload
receiver's own (web/receiver.py). A module of its own, importing nothing: the receiver is a lean process that
must not load the app (web/messages.py takes these into its catalogue).
"""

from __future__ import annotations

UPLOAD_MESSAGES: dict[str, tuple[str, str]] = {
    "upload.unknown": ("未找到该上传。", "No such upload."),
    "upload.expired": ("该上传已过期，请重新上传。", "This upload has expired: start it again."),
    "upload.busy": ("该上传正由另一请求写入，请稍后重试。",
                    "This upload is being written by another request: try again shortly."),
    "upload.offset": ("上传位置不符：服务器已收到 {have} 字节，请求从 {sent} 字节续传。",
                      "Offset mismatch: the server has {have} bytes, the request continues at {sent}."),
    "upload.too_much": ("数据超出声明的文件大小（尚余 {remaining} 字节）。",
                        "More data than the upload's declared length ({remaining} bytes remain)."),
    "upload.version": ("不支持的上传协议版本，须为 tus {version}。",
                       "Unsupported protocol version: tus {version} is required."),
    "upload.defer": ("须在开始上传时声明文件大小。", "The upload's length must be declared when it is created."),
    "upload.bad_length": ("文件大小（Upload-Length）无效。", "Upload-Length is missing or not a number."),
    "upload.empty": ("文件为空。", "The file is empty."),
    "upload.too_large": ("文件过大：{size} 字节，上限 {limit} 字节。",
                         "File too large: {size} bytes, the limit is {limit} bytes."),
    "upload.bad_metadata": ("上传的附加信息（Upload-Metadata）格式有误或过长。",
                            "Upload-Metadata is malformed or too long."),
    "upload.missing_metadata": ("须注明文件名和案件。", "The file name and the case are required."),
    "upload.content_type": ("上传数据的类型须为 {expected}。", "The body's type must be {expected}."),
    "upload.bad_offset": ("续传位置（Upload-Offset）无效。", "Upload-Offset is missing or not a number."),
    # the upload receiver (web/receiver.py)
    "upload.app_unreachable": ("暂时无法核验上传权限（业务服务无响应），未写入任何数据，请稍后重试。",
                               "The upload cannot be authorised just now (the application does not answer); "
                               "nothing was written. Try again shortly."),
    "upload.disk": ("上传暂存目录无法写入，已收到的部分保留；请稍后续传，并告知系统管理员。",
                    "The uploads' folder cannot be written; what arrived is kept. Resume later and tell the "
                    "administrator."),
    "upload.not_here": ("此地址只接收已创建的上传。", "This address takes only uploads already created."),
    "upload.method": ("此地址不支持该请求方法。", "This address does not take that request method."),
}


def upload_message(key: str, lang: str, **params: object) -> str:
    """The message `key` in `lang` ("zh" or "en"); an unknown key shows as itself."""
    entry = UPLOAD_MESSAGES.get(key)
    text = key if entry is None else entry[0 if lang == "zh" else 1]
    return text.format(**params) if params else text
