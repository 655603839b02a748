//! The reply-stripping corpus, part two: mails in the languages customers write in — Swahili,
//! German, French, Spanish, Portuguese, Italian, Dutch, the Nordic languages, Polish, Russian,
//! Ukrainian, Czech, Turkish, Vietnamese, Chinese, Japanese, Korean — with their clients'
//! attribution lines, separators, header blocks and phone signatures. Run by the test in
//! `corpus.rs`.

use super::corpus::Case;

pub const CASES: &[Case] = &[
    (
        "sw_tarehe_aliandika",
        "Asante sana, nimepokea.\n\nTarehe 3 Feb 2026 saa 10:00, Kituo Support <support@example.com> aliandika:\n\n> Oda yako imesafirishwa.\n",
        "Asante sana, nimepokea.",
    ),
    (
        "sw_mnamo_ameandika",
        "Oda yangu iko wapi?\n\nMnamo Jumatatu, 3 Februari 2026, Kituo Support <support@example.com> ameandika:\n> Tumepokea malipo yako.\n",
        "Oda yangu iko wapi?",
    ),
    ("sw_phone_signature", "Oda yangu iko wapi?\n\nImetumwa kutoka kwa Samsung", "Oda yangu iko wapi?"),
    ("sw_closing_and_name", "Nimeipata taa, inafanya kazi.\n\nAsante,\nWanjiru", "Nimeipata taa, inafanya kazi."),
    (
        "sw_outlook_headers",
        "Naomba mrejesho wa pesa.\n\nKutoka: Kituo Support <support@example.com>\nImetumwa: Jumatatu, 3 Februari 2026 10:00\nKwa: Amina\nMada: Oda SO-2026-0042\n\nOda yako imesafirishwa.",
        "Naomba mrejesho wa pesa.",
    ),
    (
        "sw_ujumbe_wa_awali",
        "Sawa, nitasubiri.\n\n-----Ujumbe wa awali-----\nKutoka: Kituo Support\n",
        "Sawa, nitasubiri.",
    ),
    (
        "de_am_schrieb",
        "Danke, das hilft.\n\nAm 03.02.2026 um 10:00 schrieb Kituo Support <support@example.com>:\n\n> Ihre Bestellung ist unterwegs.\n",
        "Danke, das hilft.",
    ),
    (
        "de_gmail_wrapped_schrieb",
        "Wann kommt das Paket?\n\nAm Mo., 3. Feb. 2026 um 10:00 Uhr schrieb Kituo Support <\nsupport@example.com>:\n\n> Ihr Paket wurde versandt.\n",
        "Wann kommt das Paket?",
    ),
    (
        "de_name_schrieb_am",
        "Bitte stornieren.\n\nKituo Support <support@example.com> schrieb am Fr., 28. Apr. 2026 um 11:53 Uhr:\n\n> Ihre Bestellung ist bestätigt.\n",
        "Bitte stornieren.",
    ),
    (
        "de_outlook_headers",
        "Danke.\n\nVon: Kituo Support <support@example.com>\nGesendet: Montag, 3. Februar 2026 10:00\nAn: Amina\nBetreff: Bestellung",
        "Danke.",
    ),
    (
        "de_urspruengliche_nachricht",
        "Die Rechnung fehlt noch.\n\n-----Ursprüngliche Nachricht-----\nVon: Kituo Support [mailto:support@example.com]\nGesendet: Dienstag, 25. November 2025 14:59\nAn: Jonas\nBetreff: Rechnung\n",
        "Die Rechnung fehlt noch.",
    ),
    (
        "de_antwort_nachricht",
        "Ja, bitte liefern.\n\n-----Antwort Nachricht-----\n\nSollen wir liefern?\n",
        "Ja, bitte liefern.",
    ),
    ("de_iphone_signature", "Passt so.\n\nVon meinem iPhone gesendet", "Passt so."),
    (
        "fr_le_a_ecrit",
        "Merci, c'est parfait.\n\nLe lun. 3 févr. 2026 à 10:00, Kituo Support <support@example.com> a écrit :\n\n> Votre commande est partie.\n",
        "Merci, c'est parfait.",
    ),
    (
        "fr_le_a_ecrit_mailto_in_address",
        "Lorem ipsum\n\nLe 23 janv. 2026 à 22:03, Kituo Support <support@example.com<mailto:support@example.com>> a écrit:\n\nBonjour!\n",
        "Lorem ipsum",
    ),
    (
        "fr_thunderbird_name_only",
        "Je préfère le retrait en magasin.\n\nLe 19/03/2026 11:34, Kituo Support a écrit :\n> Livraison ou retrait ?\n",
        "Je préfère le retrait en magasin.",
    ),
    (
        "fr_outlook_headers_spaced_colons",
        "Lorem ipsum\n\nDe : Kituo Support [mailto:support@example.com]\nEnvoyé : vendredi 23 janvier 2026 16:39\nÀ : Camille\nObjet : Suivi\n\nBonjour",
        "Lorem ipsum",
    ),
    (
        "fr_message_d_origine",
        "Toujours rien reçu.\n\n-------- Message d'origine --------\nDe : Kituo Support <support@example.com>\nDate : 03/02/2026 10:00 (GMT+03:00)\n",
        "Toujours rien reçu.",
    ),
    ("fr_iphone_signature", "D'accord.\n\nEnvoyé de mon iPhone", "D'accord."),
    (
        "es_el_escribio",
        "Gracias, lo espero.\n\nEl lun, 3 feb 2026 a las 10:00, Kituo Support (<support@example.com>) escribió:\n\n> Su pedido fue enviado.\n",
        "Gracias, lo espero.",
    ),
    (
        "es_outlook_headers",
        "Quiero devolverlo.\n\nDe: Kituo Support <support@example.com>\nEnviado el: lunes, 3 de febrero de 2026 10:00\nPara: Lucía\nAsunto: Pedido\n",
        "Quiero devolverlo.",
    ),
    (
        "es_mensaje_original",
        "No funciona.\n\n-----Mensaje original-----\nDe: Kituo Support\nEnviado: lunes, 3 de febrero de 2026 10:00\nPara: Lucía\nAsunto: Pedido\n",
        "No funciona.",
    ),
    ("es_phone_signature", "Sí, mañana.\n\nEnviado desde mi iPhone", "Sí, mañana."),
    (
        "pt_em_escreveu",
        "Obrigado!\n\nEm seg., 3 de fev. de 2026 às 10:00, Kituo Support <support@example.com> escreveu:\n\n> Seu pedido foi enviado.\n",
        "Obrigado!",
    ),
    (
        "pt_outlook_enviada_em",
        "Ainda não chegou.\n\nDe: Kituo Support <support@example.com>\nEnviada em: segunda-feira, 3 de fevereiro de 2026 10:00\nPara: João\nAssunto: Pedido\n",
        "Ainda não chegou.",
    ),
    (
        "it_il_ha_scritto",
        "Grazie mille.\n\nIl giorno lun 3 feb 2026 alle ore 10:00 Kituo Support <support@example.com> ha scritto:\n\n> Il pacco è partito.\n",
        "Grazie mille.",
    ),
    (
        "it_outlook_da_inviato",
        "Non è arrivato.\n\nDa: Kituo Support [mailto:support@example.com]\nInviato: lunedì 3 febbraio 2026 10:00\nA: Marco\nOggetto: Ordine\n",
        "Non è arrivato.",
    ),
    (
        "nl_op_schreef",
        "Lorem\n\nOp 13-02-2026 3:18 schreef Kituo Support <support@example.com>:\n\nUw bestelling is onderweg.\n",
        "Lorem",
    ),
    (
        "nl_op_heeft_het_volgende_geschreven",
        "Gluten-vrij graag.\n\nOp 17-feb.-2026, om 13:18 heeft Kituo Support <support@example.com> het volgende geschreven:\n\nWelke variant wilt u?\n",
        "Gluten-vrij graag.",
    ),
    (
        "nl_outlook_van_verzonden",
        "Graag terugbellen.\n\nVan: Kituo Support <support@example.com>\nVerzonden: maandag 3 februari 2026 10:00\nAan: Daan\nOnderwerp: Bestelling\n",
        "Graag terugbellen.",
    ),
    ("nl_iphone_signature", "Prima.\n\nVerstuurd vanaf mijn iPhone", "Prima."),
    (
        "sv_den_skrev",
        "Lorem\nDen 14 september, 2026 02:23:18, Kituo Support (support@example.com) skrev:\n\nVälkommen tillbaka.\n",
        "Lorem",
    ),
    (
        "sv_outlook_fran_skickat",
        "Allo! Hur går det?\nFrån: Kituo Support [mailto:support@example.com]\nSkickat: den 26 augusti 2026 14:45\nTill: Leif\nÄmne: SV: Vecka 36\n\nHej\n",
        "Allo! Hur går det?",
    ),
    (
        "no_paa_skrev",
        "Lorem\nPå 14 september 2026 på 02:23:18, Kituo Support (support@example.com) skrev:\n\nVelkommen.\n",
        "Lorem",
    ),
    (
        "no_gmail_day_first_skrev",
        "Takk for svaret.\n\nsøn. 30. apr. 2026 kl. 00.26 skrev Kituo Support <support@example.com>:\n\n> Pakken er sendt.\n",
        "Takk for svaret.",
    ),
    (
        "da_fra_sendt_til_emne",
        "Allo! Følg op!\n\nFra: care@shop.example.com\nSendt: 19. marts 2026 12:10\nTil: Mette\nEmne: Din ordre\n\nHej",
        "Allo! Følg op!",
    ),
    (
        "da_den_kl_skrev",
        "Tak, det passer.\n\nDen 08/06/2026 kl. 21.21 skrev Kituo Support <support@example.com>:\n\n> Kan vi levere i morgen?\n",
        "Tak, det passer.",
    ),
    (
        "da_oprindelig_meddelelse",
        "Jeg venter stadig.\n\n-----Oprindelig meddelelse-----\nFra: Kituo Support\nSendt: 3. februar 2026 10:00\n",
        "Jeg venter stadig.",
    ),
    ("da_iphone_signature", "Det er fint.\n\nSendt fra min iPhone", "Det er fint."),
    (
        "fi_kirjoitti",
        "Kiitos!\n\npe 4.3.2026 klo 12.00 Kituo Support <support@example.com> kirjoitti:\n\n> Tilauksesi on lähetetty.\n",
        "Kiitos!",
    ),
    (
        "pl_w_dniu_napisal_wrapped",
        "Lorem ipsum\n\nW dniu 28 stycznia 2026 01:53 użytkownik Kituo Support <support@example.com>\nnapisał:\n\nBlah!\n",
        "Lorem ipsum",
    ),
    (
        "pl_dnia_napisal_a",
        "Dziękuję.\n\nDnia 14 lip 2026 o godz. 00:25 Kituo Support <support@example.com> napisał(a):\n\n> Paczka jest w drodze.\n",
        "Dziękuję.",
    ),
    (
        "pl_thunderbird_pisze",
        "Czekam dalej.\n\nW dniu 2026-01-07 14:23, support@example.com pisze:\n> Wysłaliśmy paczkę.\n",
        "Czekam dalej.",
    ),
    (
        "ru_date_first_wrapped_napisal",
        "Спасибо, получил.\n\n02.04.2026 14:20 пользователь \"support@example.com\" <\nsupport@shop.example.com> написал:\n\n> Ваш заказ отправлен.\n",
        "Спасибо, получил.",
    ),
    (
        "ru_gmail_weekday_first",
        "Когда доставка?\n\nвт, 5 янв. 2026 г. в 23:39, Kituo Support <support@example.com>:\n\n> Заказ собран.\n",
        "Когда доставка?",
    ),
    (
        "ru_outlook_headers",
        "Верните деньги.\n\nОт: Kituo Support <support@example.com>\nОтправлено: 3 февраля 2026 г. 10:00\nКому: Иван\nТема: Заказ\n",
        "Верните деньги.",
    ),
    (
        "uk_pyshe",
        "Дякую.\n\n30 серп. 2026 р. 20:45 \"Kituo Support\" support@example.com пише:\n\n> Замовлення відправлено.\n",
        "Дякую.",
    ),
    (
        "cs_napsal",
        "Děkuji.\n\nDne 3. 2. 2026 10:00 Kituo Support <support@example.com> napsal(a):\n\n> Zásilka je na cestě.\n",
        "Děkuji.",
    ),
    (
        "tr_yazdi",
        "Teşekkürler.\n\n3 Şub 2026 Pzt, 10:00 tarihinde Kituo Support <support@example.com> şunu yazdı:\n\n> Siparişiniz yolda.\n",
        "Teşekkürler.",
    ),
    (
        "vi_vao_da_viet",
        "Hello\n\nVào 14:24 8 tháng 6, 2026, Kituo Support <support@example.com> đã viết:\n\n> Xin chào\n",
        "Hello",
    ),
    (
        "zh_zai_xiedao",
        "好的，谢谢。\n\n在 2026年2月3日 10:00，Kituo Support <support@example.com> 写道：\n\n> 您的订单已发货。\n",
        "好的，谢谢。",
    ),
    (
        "zh_yuanshi_youjian",
        "收到了。\n\n------------------ 原始邮件 ------------------\n发件人: \"Kituo Support\"<support@example.com>;\n发送时间: 2026年2月3日(星期二) 上午10:00\n收件人: \"张伟\"<zhang@example.com>;\n主题: 订单\n",
        "收到了。",
    ),
    (
        "ja_gmail_date_first",
        "ありがとうございます。\n\n2026年2月3日(火) 10:00 Kituo Support <support@example.com>:\n\n> ご注文は発送されました。\n",
        "ありがとうございます。",
    ),
    (
        "ja_apple_no_message",
        "了解です。\n\n2026/02/03 10:00、Kituo Support <support@example.com> のメッセージ:\n\n> 発送しました。\n",
        "了解です。",
    ),
    (
        "ko_apple_jakseong",
        "감사합니다.\n\n2026. 2. 3. 오전 10:00 Kituo Support <support@example.com> 작성:\n\n> 주문이 발송되었습니다.\n",
        "감사합니다.",
    ),
    (
        "mixed_language_bottom_post",
        "Am 03.02.2026 um 10:00 schrieb Kituo Support <support@example.com>:\n> Welche Größe?\n\nGröße L bitte.",
        "Größe L bitte.",
    ),
    (
        "sw_reply_with_english_client_and_signature",
        "Nimelipa kwa M-Pesa, namba ya muamala QFT4XY12.\n\nSent from my Galaxy\n\nOn Mon, 3 Feb 2026 at 10:00, Kituo Support <support@example.com> wrote:\n\n> Tafadhali lipia oda yako.\n",
        "Nimelipa kwa M-Pesa, namba ya muamala QFT4XY12.",
    ),
    (
        "de_forward_kept_whole",
        "Zur Info\n\n-------- Weitergeleitete Nachricht --------\nBetreff: Paket\nDatum: Mon, 3 Feb 2026 10:00:00 +0300\nVon: Kurier <noreply@kurier.example.com>\nAn: Jonas <jonas@example.de>\n\nZustellung fehlgeschlagen.",
        "Zur Info\n\n-------- Weitergeleitete Nachricht --------\nBetreff: Paket\nDatum: Mon, 3 Feb 2026 10:00:00 +0300\nVon: Kurier <noreply@kurier.example.com>\nAn: Jonas <jonas@example.de>\n\nZustellung fehlgeschlagen.",
    ),
    (
        "fr_forward_kept_whole",
        "Pour info\n\n-------- Message transféré --------\nSujet : Colis\nDate : Mon, 3 Feb 2026 10:00:00 +0300\nDe : Transporteur <noreply@colis.example.com>\n\nLivraison impossible.",
        "Pour info\n\n-------- Message transféré --------\nSujet : Colis\nDate : Mon, 3 Feb 2026 10:00:00 +0300\nDe : Transporteur <noreply@colis.example.com>\n\nLivraison impossible.",
    ),
    (
        "es_forward_kept_whole",
        "Mira esto\n\n---------- Mensaje reenviado ---------\nDe: Banco <alertas@banco.example.com>\nDate: lun, 3 feb 2026 a las 10:00\nSubject: Pago\nTo: <lucia@example.es>\n\nPago rechazado.",
        "Mira esto\n\n---------- Mensaje reenviado ---------\nDe: Banco <alertas@banco.example.com>\nDate: lun, 3 feb 2026 a las 10:00\nSubject: Pago\nTo: <lucia@example.es>\n\nPago rechazado.",
    ),
    (
        "fr_zimbra_mail_original",
        "Je confirme l'adresse.\n\n----- Mail original -----\nDe: \"Kituo Support\" <support@example.com>\nÀ: \"Camille\" <camille@example.fr>\nEnvoyé: Lundi 3 Février 2026 10:00:00\nObjet: Livraison\n\nConfirmez-vous l'adresse ?\n",
        "Je confirme l'adresse.",
    ),
    (
        "ru_mailru_ot",
        "Жду звонка.\n\nПонедельник, 3 февраля 2026, 10:00 +03:00 от Kituo Support <support@example.com>:\n\n> Мы перезвоним.\n",
        "Жду звонка.",
    ),
];
