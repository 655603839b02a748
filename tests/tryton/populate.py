"""A small company in Tryton for Kituo's back-office tests (run by setup.sh with the venv's python).

    populate.py TRYTOND_CONF DATABASE

Customers with emails, products with stock (one out of stock), sales in several states with
shipments and invoices (paid, open, overdue), numbered SO00001…, SH…, INV…. Prints a summary.
The tests rely on these records; change both together.
"""
import datetime
import sys
from decimal import Decimal

from proteus import Model, Wizard, config

conf, database = sys.argv[1], sys.argv[2]
cfg = config.set_trytond(database=database, config_file=conf)
cfg.skip_warning = True

from trytond.modules.account.tests.tools import (  # noqa: E402
    create_chart, create_fiscalyear, get_accounts)
from trytond.modules.account_invoice.tests.tools import (  # noqa: E402
    set_fiscalyear_invoice_sequences)
from trytond.modules.company.tests.tools import (  # noqa: E402
    create_company, get_company)

today = datetime.date.today()


def days_ago(n):
    return today - datetime.timedelta(days=n)


Currency = Model.get('currency.currency')
create_company()
company = get_company()
company.party.name = 'Duka la Kituo'
company.party.save()
currency = company.currency

# Calendar years, from the oldest date below (the stock's arrival) to today. Given one day, the
# helper makes a year from six months before it to five after, so one "year" around 1 June
# ended on 30 November and the invoices of a December day had no period.
years = sorted({days_ago(100).year, today.year})
fiscalyears = []
for year in years:
    fy = set_fiscalyear_invoice_sequences(create_fiscalyear(
        company, today=(datetime.date(year, 1, 1), datetime.date(year, 12, 31))))
    fy.click('create_period')
    fiscalyears.append(fy)
create_chart(company)
accounts = get_accounts(company)

# Numbers that look like a shop's: SO00001, SH00001, INV00001.
Sequence = Model.get('ir.sequence')
SequenceStrict = Model.get('ir.sequence.strict')
SaleConfig = Model.get('sale.configuration')
StockConfig = Model.get('stock.configuration')
sale_seq = SaleConfig(1).sale_sequence
sale_seq.prefix, sale_seq.padding = 'SO', 5
sale_seq.save()
ship_seq = StockConfig(1).shipment_out_sequence
ship_seq.prefix, ship_seq.padding = 'SH', 5
ship_seq.save()
for fy in fiscalyears:
    for s in fy.invoice_sequences:
        inv = SequenceStrict(s.out_invoice_sequence.id)
        inv.prefix, inv.padding = 'INV', 5
        inv.save()

Journal = Model.get('account.journal')
PaymentMethod = Model.get('account.invoice.payment.method')
cash_journal, = Journal.find([('type', '=', 'cash')])
payment_method = PaymentMethod(
    name='M-Pesa', journal=cash_journal,
    credit_account=accounts['cash'], debit_account=accounts['cash'])
payment_method.save()

PaymentTerm = Model.get('account.invoice.payment_term')
now_term = PaymentTerm(name='On receipt')
now_term.lines.new(type='remainder')
now_term.save()
term30 = PaymentTerm(name='30 days')
line = term30.lines.new(type='remainder')
line.relativedeltas.new(days=30)
term30.save()

Party = Model.get('party.party')
customers = {}
for key, name, email in [
        ('amina', 'Amina Mwakilema', 'Amina.Mwakilema@example.co.tz'),
        ('juma', 'Juma Otieno', 'juma.otieno@example.co.ke'),
        ('neema', 'Neema Mushi', 'neema.mushi@example.co.tz'),
        ('baraka', 'Baraka Nyirenda', 'baraka.nyirenda@example.co.tz'),
        ('wanjiru', 'Wanjiru Kamau', 'wanjiru.kamau@example.co.ke')]:
    party = Party(name=name)
    party.contact_mechanisms.new(type='email', value=email)
    party.customer_payment_term = term30
    party.save()
    customers[key] = party

ProductCategory = Model.get('product.category')
category = ProductCategory(name='Shop', accounting=True)
category.account_revenue = accounts['revenue']
category.account_expense = accounts['expense']
category.save()
Uom = Model.get('product.uom')
unit, = Uom.find([('name', '=', 'Unit')])
Template = Model.get('product.template')
Location = Model.get('stock.location')
supplier, = Location.find([('code', '=', 'SUP')])
storage, = Location.find([('code', '=', 'STO')])
Move = Model.get('stock.move')
products = {}
for code, name, price, stock in [
        ('KK-KIK-02', 'Kikoi beach wrap', '35000', 0),
        ('KG-KAN-01', 'Kanga pair with Swahili proverb', '18000', 40),
        ('SL-LAN-10', 'Solar lantern with USB port', '65000', 12),
        ('CF-KAA-01', 'Kilimanjaro AA coffee beans 500 g', '26000', 30),
        ('MS-SHU-01', 'Maasai shuka blanket', '45000', 5),
        ('EL-SPK-30', 'Bluetooth speaker waterproof', '95000', 8)]:
    tpl = Template(name=name, code=code, default_uom=unit, type='goods', salable=True,
                   list_price=Decimal(price), account_category=category)
    tpl.save()
    product, = tpl.products
    products[code] = product
    if stock:
        move = Move(product=product, quantity=stock, from_location=supplier,
                    to_location=storage, unit_price=Decimal(price) / 2, currency=currency,
                    effective_date=days_ago(100))
        move.save()
        move.click('do')

Sale = Model.get('sale.sale')
Invoice = Model.get('account.invoice')


def sale(customer, lines, ago, term=None, quote=True, confirm=True):
    s = Sale(party=customers[customer], sale_date=days_ago(ago))
    s.invoice_method = 'order'
    s.shipment_method = 'order'
    if term is not None:
        s.payment_term = term
    for code, qty in lines:
        line = s.lines.new()
        line.product = products[code]
        line.quantity = qty
    s.save()
    if quote:
        s.click('quote')
    if confirm:
        s.click('confirm')
    s.reload()
    return s


def ship(s, until, reference=None):
    """Moves the sale's shipment through the workflow up to `until`."""
    shipment, = s.shipments
    if reference:
        shipment.reference = reference
        shipment.save()
    steps = ['assign_try', 'pick', 'pack', 'ship', 'do']
    for step in steps[:steps.index(until) + 1]:
        shipment.click(step)
    return shipment


def post(s, ago, paid=False):
    invoice, = s.invoices
    invoice.invoice_date = days_ago(ago)
    invoice.save()
    invoice.click('post')
    if paid:
        pay = Wizard('account.invoice.pay', [invoice])
        pay.form.payment_method = payment_method
        pay.form.date = days_ago(ago)
        pay.execute('choice')
    invoice.reload()
    return invoice


# Oldest first: the invoice sequence is strict about dates.
s1 = sale('juma', [('KG-KAN-01', 2), ('CF-KAA-01', 1)], 80)
ship(s1, 'do', reference='G4S-NBO-0031877')
post(s1, 79, paid=True)                                        # SO00001: delivered, INV paid
s2 = sale('neema', [('MS-SHU-01', 1)], 60, term=now_term)
ship(s2, 'do', reference='EE482760114TZ')
post(s2, 59)                                                   # SO00002: INV overdue
s3 = sale('amina', [('SL-LAN-10', 1), ('KG-KAN-01', 2)], 10)
ship(s3, 'ship', reference='EE482913057TZ')
post(s3, 9, paid=True)                                         # SO00003: shipped, INV paid
s4 = sale('baraka', [('EL-SPK-30', 1)], 8)
post(s4, 7)                                                    # SO00004: processing, INV open
s5 = sale('amina', [('CF-KAA-01', 3)], 2, confirm=False)       # SO00005: quotation
s6 = sale('wanjiru', [('KG-KAN-01', 1)], 2, confirm=False)
s6.click('cancel')                                             # SO00006: cancelled
s7 = sale('neema', [('SL-LAN-10', 2)], 1)                      # SO00007: processing (tests ship it)
s8 = sale('juma', [('MS-SHU-01', 1)], 1)                       # SO00008: processing
s9 = sale('baraka', [('SL-LAN-10', 1), ('CF-KAA-01', 2)], 1, confirm=False)  # SO00009: quotation (the bot cancels it)

for s in Sale.find([], order=[('id', 'ASC')]):
    print(s.number, s.state, s.shipment_state, s.invoice_state,
          [(sh.number, sh.state) for sh in s.shipments],
          [(i.number, i.state) for i in s.invoices])
ComplaintType = Model.get('sale.complaint.type')
IrModel = Model.get('ir.model')
sale_model, = IrModel.find([('name', '=', 'sale.sale')])
ComplaintType(name='Return or refund', origin=sale_model).save()
print('complaint types', [t.name for t in ComplaintType.find([])])
